/**
 * web-arm's live containers as nixos-25.11's virtualisation.oci-containers writes their units
 * (lab/designs/ociContainer.ts): a golden file per container, named after the nixpkgs file and
 * commit it mirrors, and the unit NixOS writes for collabora (its keys, written out from the
 * module by hand) compared key by key with the lab's, every difference named. Pure.
 */
import { describe, expect, it } from 'vitest';
import { renderBaseSystem } from '../../lab/designs/baseSystem.ts';
import { NIXPKGS_OCI_CONTAINERS_SOURCE, ociLogDriver } from '../../lab/designs/ociContainer.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { splitExecLine } from '../../lab/units/exec-line.ts';
import { parseUnitFile } from '../../lab/units/parse.ts';
import { renderUnit } from '../../lab/units/render.ts';
import { expectGolden } from './helpers/golden.ts';

const [FILE, COMMIT] = Object.entries(NIXPKGS_OCI_CONTAINERS_SOURCE)[0]!;
const IMAGE = 'localhost/v6lab-node:0123456789ab';
const REAL = { etc: '/etc', podmanSocket: '/run/podman/podman.sock', image: IMAGE, networkConfigDir: '/etc/containers/networks', systemd: 'real' as const };
const units = renderBaseSystem(defaultConfig(), REAL).units.filter((u) => u.name.startsWith('podman-'));

describe(`golden: ${FILE} @ ${COMMIT} (podman backend, root, sdnotify conmon)`, () => {
  for (const unit of units) it(unit.name, () => expectGolden(`nixos-oci-${unit.name}`, renderUnit(unit)));
});

/**
 * What NixOS 25.11 writes for `virtualisation.oci-containers.containers.collabora = { image; ports = [ "9980:9980/tcp" ]; cmd; }`
 * (podman backend), read off the module: [Unit] and [Service] keys, store paths shown as <store>.
 */
const NIXOS_COLLABORA = {
  Unit: { Wants: ['network-online.target'], After: ['network-online.target'] },
  Service: {
    Type: ['notify'],
    NotifyAccess: ['all'],
    User: ['root'],
    RuntimeDirectory: ['collabora'],
    Environment: ['PODMAN_SYSTEMD_UNIT=%n'],
    ExecStartPre: ['<store>/bin/pre-start'],
    ExecStart: ['<store>/bin/podman-collabora-start'],
    ExecStop: ['<store>/bin/podman-collabora-pre-stop'],
    ExecStopPost: ['<store>/bin/podman-collabora-post-stop'],
    Restart: ['always'],
    TimeoutStartSec: ['0'],
    TimeoutStopSec: ['120'],
  },
  Install: { WantedBy: ['multi-user.target'] },
};
/** The commands NixOS's scripts for collabora run (start: `exec podman run …` with these arguments). */
const NIXOS_COLLABORA_SCRIPTS = {
  'pre-start': 'podman rm -f collabora || true; rm -f /run/collabora/ctr-id',
  start: `podman run --name=collabora --log-driver=journald --cidfile=/run/collabora/ctr-id --cgroups=enabled --sdnotify=conmon -d --replace -p 9980:9980/tcp --rm --pull missing ${IMAGE} /usr/local/bin/v6lab-responder --name collabora --tcp 9980`,
  'pre-stop': 'podman stop --ignore --cidfile=/run/collabora/ctr-id',
  'post-stop': 'podman rm -f --ignore --cidfile=/run/collabora/ctr-id',
};

describe("the lab's collabora unit against NixOS's, key by key", () => {
  const unit = units.find((u) => u.name === 'podman-collabora.service')!;
  const entries = parseUnitFile(unit.name, renderUnit(unit));
  const keys = (section: string) => {
    const out: Record<string, string[]> = {};
    for (const e of entries.filter((x) => x.section === section && x.key !== 'Description')) (out[e.key] ??= []).push(e.value);
    return out;
  };

  it('has the same [Unit] and [Install]', () => {
    expect(keys('Unit')).toEqual(NIXOS_COLLABORA.Unit);
    expect(keys('Install')).toEqual(NIXOS_COLLABORA.Install);
  });

  it('has the same [Service] keys; Exec lines run the commands of NixOS\'s scripts; PODMAN_SYSTEMD_UNIT written out', () => {
    const service = keys('Service');
    expect(Object.keys(service).sort()).toEqual(Object.keys(NIXOS_COLLABORA.Service).sort());
    for (const key of ['Type', 'NotifyAccess', 'User', 'RuntimeDirectory', 'Restart', 'TimeoutStartSec', 'TimeoutStopSec'] as const) {
      expect(service[key], key).toEqual(NIXOS_COLLABORA.Service[key]);
    }
    // Difference 1: %n written out (the lab's unit model keeps literal values).
    expect(service['Environment']).toEqual(['"PODMAN_SYSTEMD_UNIT=podman-collabora.service"']);
    // Difference 2: the scripts' commands as Exec lines instead of Nix store scripts.
    expect(splitExecLine(service['ExecStartPre']![0]!).argv).toEqual(['/bin/sh', '-c', NIXOS_COLLABORA_SCRIPTS['pre-start']]);
    expect(splitExecLine(service['ExecStart']![0]!).argv.join(' ')).toBe(NIXOS_COLLABORA_SCRIPTS.start);
    expect(service['ExecStop']).toEqual([NIXOS_COLLABORA_SCRIPTS['pre-stop']]);
    expect(service['ExecStopPost']).toEqual([NIXOS_COLLABORA_SCRIPTS['post-stop']]);
  });

  it('logs to journald on a real systemd, to k8s-file where there is none (difference 3, the netns tier)', () => {
    expect(ociLogDriver({ systemd: 'real' })).toBe('journald');
    expect(ociLogDriver({ systemd: 'emulated' })).toBe('k8s-file');
  });
});
