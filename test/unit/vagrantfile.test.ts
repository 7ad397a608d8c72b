/**
 * The top-level Vagrantfile: what it reads and installs matches the lab's own names (always),
 * and `vagrant validate` accepts it for both providers (where vagrant is installed).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.ts';
import { exportFormats } from '../../lab/nixos/export.ts';
import { VAGRANT_MGMT_IF, VAGRANT_MGMT_MAC } from '../../lab/nixos/vmModule.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { VAGRANT_MACHINE, VAGRANT_PROVIDERS, VAGRANTFILE_DIR, VM_MODULE_FILE, vagrantArgv, vagrantEnv, vagrantNames } from '../../lab/tiers/vagrant/vagrantPlan.ts';
import { titleOrSkipReason } from './helpers/golden.ts';

const VAGRANTFILE = readFileSync(join(VAGRANTFILE_DIR, 'Vagrantfile'), 'utf8');

describe('Vagrantfile (read as text)', () => {
  it('takes the box and provider from the environment and knows both providers', () => {
    expect(VAGRANTFILE).toContain('BOX = v6lab_env("V6LAB_VAGRANT_BOX")');
    expect(VAGRANTFILE).toContain('PROVIDER = v6lab_env("V6LAB_VAGRANT_PROVIDER")');
    expect(VAGRANTFILE).toContain(`%w[${VAGRANT_PROVIDERS.join(' ')}]`);
    for (const provider of VAGRANT_PROVIDERS) expect(VAGRANTFILE).toContain(`web.vm.provider "${provider}"`);
  });

  it('reads every variable the lab sets, and defines the machine the lab drives', () => {
    const env = vagrantEnv(planLab(defaultConfig()), { box: 'b', provider: 'qemu' });
    for (const name of Object.keys(env).filter((n) => n.startsWith('V6LAB_'))) expect(VAGRANTFILE, name).toContain(`"${name}"`);
    expect(VAGRANTFILE).toContain(`config.vm.define "${VAGRANT_MACHINE}"`);
  });

  it("names the management NIC by the MAC the VM module expects, and installs that module", () => {
    expect(VAGRANTFILE).toContain(`MGMT_MAC = "${VAGRANT_MGMT_MAC}"`);
    expect(VAGRANTFILE).toContain('lv.management_network_mac = MGMT_MAC');
    expect(VAGRANTFILE).toContain(`./${VM_MODULE_FILE}`);
    expect(VAGRANTFILE).toContain(`web-arm-vm.nix from\n#                           \`pnpm lab export nixos-vm v6egress\``);
    expect(exportFormats().map((f) => f.name)).toContain('nixos-vm');
    expect(VAGRANT_MGMT_IF).toBe('vagrant0');
  });

  it('attaches the uplink without letting Vagrant configure it, and switches with nixos-rebuild', () => {
    expect(VAGRANTFILE).toMatch(/override\.vm\.network :public_network, type: "bridge", dev: LINK, .*mac: WEBARM_MAC, auto_config: false/);
    expect(VAGRANTFILE).toContain('tap,id=v6lab,ifname=#{LINK},script=no,downscript=no');
    expect(VAGRANTFILE).toContain('nixos-rebuild switch -I nixos-config="$dst/configuration.nix"');
    expect(VAGRANTFILE).toContain('web.vm.synced_folder ".", "/vagrant", disabled: true');
  });
});

const vagrant = (await run(vagrantArgv.version(), { allowFailure: true, timeoutMs: 60_000 }).catch(() => undefined))?.exitCode === 0;

// `vagrant validate` starts Ruby and loads the plugins: seconds on an idle machine, more on a busy one.
describe.skipIf(!vagrant)(titleOrSkipReason('vagrant validate', vagrant, 'vagrant is not installed; apt-get install vagrant'), { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-vagrant-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = defaultConfig();
  config.lab.stateDir = dir;
  const plan = planLab(config);
  const names = vagrantNames(plan);
  mkdirSync(names.nixosDir, { recursive: true });
  for (const format of exportFormats()) {
    const file = format.name === 'nixos-vm' ? VM_MODULE_FILE : `${config.design.name}.nix`;
    writeFileSync(join(names.nixosDir, file), format.render(config, 'localhost/v6lab-node:0123456789ab', 'test'));
  }
  const validate = (env: Record<string, string>) =>
    run(vagrantArgv.validate(), { env: { ...env, VAGRANT_CHECKPOINT_DISABLE: '1' }, allowFailure: true, timeoutMs: 180_000 });

  for (const provider of VAGRANT_PROVIDERS) {
    it(`accepts the Vagrantfile with the ${provider} provider (dummy box, the lab's link and modules)`, async () => {
      const result = await validate(vagrantEnv(plan, { box: 'dummy/nixos-aarch64', provider }));
      expect(result.stdout + result.stderr).toContain('Vagrantfile validated successfully.');
      expect(result.exitCode).toBe(0);
    });
  }

  it('says which variable is missing, and which provider values it takes', async () => {
    const env = vagrantEnv(plan, { box: 'dummy/nixos-aarch64', provider: 'qemu' });
    const noBox = await validate({ ...env, V6LAB_VAGRANT_BOX: '' });
    expect(noBox.exitCode).not.toBe(0);
    expect(noBox.stderr).toContain('V6LAB_VAGRANT_BOX is not set');
    const badProvider = await validate({ ...env, V6LAB_VAGRANT_PROVIDER: 'virtualbox' });
    expect(badProvider.exitCode).not.toBe(0);
    expect(badProvider.stderr).toContain('Fix: use libvirt or qemu');
  });

  it('fails validation when the modules directory is missing', async () => {
    const result = await validate({ ...vagrantEnv(plan, { box: 'dummy/nixos-aarch64', provider: 'qemu' }), V6LAB_NIXOS_DIR: join(dir, 'absent') });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/File upload source file .*absent must exist/);
  });
});
