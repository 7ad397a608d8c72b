import { describe, expect, it } from 'vitest';
import { planDesign } from '../../lab/designs/registry.ts';
import { ConfigError } from '../../lab/errors.ts';
import { nixosLayout, renderNixosModule } from '../../lab/nixos/module.ts';
import { nixosModuleModel, nixSysctlValue, shellWord, sysctlFromNix } from '../../lab/nixos/moduleModel.ts';
import { evalNixJson, hasNixInstantiate, parseNixText } from '../../lab/nixos/nixInstantiate.ts';
import { renderVmModule, VAGRANT_MGMT_IF, VAGRANT_MGMT_MAC } from '../../lab/nixos/vmModule.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { expectGolden, thrown, titleOrSkipReason } from './helpers/golden.ts';

const LAYOUT = nixosLayout('localhost/v6lab-node:0123456789ab');
const COMMAND = 'pnpm lab export nixos v6egress';

function configWith(params: Record<string, unknown>, design = 'v6egress'): LabConfig {
  const config = defaultConfig();
  config.design = { name: design, params };
  return config;
}

describe('renderNixosModule (v6egress)', () => {
  it('renders the production module (golden)', () => {
    expectGolden('v6egress.nix', renderNixosModule(planDesign(defaultConfig(), LAYOUT), LAYOUT, COMMAND));
  });

  it('renders strictEnsure and reloadNetworksAfterFirewall (golden)', () => {
    const plan = planDesign(configWith({ strictEnsure: true, reloadNetworksAfterFirewall: true }), LAYOUT);
    expectGolden('v6egress-strict-reload.nix', renderNixosModule(plan, LAYOUT, `${COMMAND} --set design.params.strictEnsure=true --set design.params.reloadNetworksAfterFirewall=true`));
  });

  it('carries other params into the service, the script and the probe', () => {
    const plan = planDesign(configWith({ networkName: 'egress6', ipv6Subnet: 'fd00:1:2::/64', probeName: 'p6', probePort: 9090 }), LAYOUT);
    const text = renderNixosModule(plan, LAYOUT, COMMAND);
    expect(text).toContain('  systemd.services.egress6-network = {');
    expect(text).toContain('      podman network exists egress6 || podman network create --ipv6 --subnet 10.89.0.0/24 --subnet fd00:1:2::/64 egress6\n');
    expect(text).toContain('    before = [ "podman-p6.service" ];');
    expect(text).toContain('  virtualisation.oci-containers.containers.p6 = {');
    expect(text).toContain('    extraOptions = [ "--network=egress6" ];');
    expect(text).toContain('    cmd = [ "/usr/local/bin/v6lab-responder" "--name" "p6" "--http" "9090" ];');
    expect(text).toContain('  systemd.services.podman-p6 = {');
  });
});

describe('nixosModuleModel', () => {
  it('reads the plan: sysctls, the ensure service, the probe container with only its own dependencies', () => {
    const model = nixosModuleModel(planDesign(defaultConfig(), LAYOUT), LAYOUT);
    expect(model.sysctls).toEqual({ 'net.ipv6.conf.all.forwarding': true });
    expect(model.services.map((s) => s.name)).toEqual(['v6egress-network']);
    expect(model.containers).toEqual([
      {
        name: 'v6probe',
        image: LAYOUT.image,
        cmd: ['/usr/local/bin/v6lab-responder', '--name', 'v6probe', '--http', '8080'],
        ports: [],
        extraOptions: ['--network=v6egress'],
        unit: { wants: ['v6egress-network.service'], requires: ['v6egress-network.service'], after: ['v6egress-network.service'], before: [] },
      },
    ]);
  });

  it('refuses a design whose units or files have no NixOS rendering, naming them', () => {
    const plan = planDesign(configWith({}, 'routed-subprefix'), LAYOUT);
    const error = thrown(() => nixosModuleModel(plan, LAYOUT));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/routed6-no-nat66.service .*no NixOS rendering/);
  });

  it('maps sysctl values both ways', () => {
    expect(['1', '0', '2', '-1', '65536', '4096 87380', '01'].map(nixSysctlValue)).toEqual([true, false, 2, -1, 65536, '4096 87380', '01']);
    for (const v of ['1', '0', '2', '4096 87380']) expect(sysctlFromNix(nixSysctlValue(v))).toBe(v);
  });

  it('quotes shell words only when needed', () => {
    expect(['podman', '--all', "it's", 'a b', ''].map(shellWord)).toEqual(['podman', '--all', `'it'\\''s'`, "'a b'", "''"]);
  });
});

describe('renderVmModule (web-arm on the lab\'s NixOS VM)', () => {
  const text = renderVmModule(defaultConfig(), { designModule: 'v6egress.nix', image: LAYOUT.image, command: 'pnpm lab export nixos-vm v6egress' });

  it('renders the uplink, the management NIC, the firewall and the live containers (golden)', () => {
    expectGolden('web-arm-vm.nix', text);
  });

  it('names the NICs by MAC: the uplink as production, the management NIC apart', () => {
    expect(text).toContain('ATTR{address}=="96:00:02:c0:12:43", NAME="enp1s0"');
    expect(text).toContain(`ATTR{address}=="${VAGRANT_MGMT_MAC}", NAME="${VAGRANT_MGMT_IF}"`);
  });

  it('gives the management NIC no default route, and the uplink production\'s addressing', () => {
    expect(text).toMatch(/interface vagrant0\n\s+nogateway\n\s+noipv6rs/);
    expect(text).toContain('networking.defaultGateway6 = { address = "fe80::1"; interface = "enp1s0"; };');
    expect(text).toContain('boot.kernel.sysctl."net.ipv6.conf.enp1s0.accept_ra" = false;');
  });

  it('follows the config (uplink name, addresses, firewall ports)', () => {
    const config = defaultConfig();
    config.webArm.uplink = 'eth9';
    config.webArm.ipv6.address = '2001:db8:1::5';
    config.webArm.firewall.allowedTcpPorts = [22, 443];
    config.webArm.firewall.allowDnsOnPodmanBridges = true;
    config.webArm.firewall.checkReversePath = 'loose';
    const other = renderVmModule(config, { designModule: 'v6egress.nix', image: LAYOUT.image, command: 'x' });
    expect(other).toContain('  networking.interfaces.eth9 = {');
    expect(other).toContain('{ address = "2001:db8:1::5"; prefixLength = 64; }');
    expect(other).toContain('networking.firewall.allowedTCPPorts = [ 22 443 ];');
    expect(other).toContain('networking.firewall.interfaces."podman+".allowedUDPPorts = [ 53 ];');
    expect(other).toContain('networking.firewall.checkReversePath = "loose";');
    // NixOS's defaults: nothing opened on podman bridges, refused connections logged.
    expect(text).not.toContain('podman+');
    expect(text).toContain('networking.firewall.logRefusedConnections = true;');
  });
});

const nix = await hasNixInstantiate();

describe.skipIf(!nix)(titleOrSkipReason('nix-instantiate reads the VM module', nix, 'nix-instantiate is not installed; apt-get install nix-bin'), () => {
  it('parses, and imports the design module', async () => {
    const text = renderVmModule(defaultConfig(), { designModule: 'v6egress.nix', image: LAYOUT.image, command: 'x' });
    await parseNixText(text);
    const value = (await evalNixJson(text, (file) => `map toString (import ${file} { lib = { mkForce = v: v; }; }).imports`)) as string[];
    expect(value).toHaveLength(1);
    expect(value[0]).toMatch(/\/v6egress\.nix$/);
  });
});
