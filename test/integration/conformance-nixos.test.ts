/**
 * The tier conformance story on the NixOS machines: the qemu tier's NixOS guest and the vagrant
 * tier (conformance.ts). They run where nix with a nixpkgs, or vagrant with a provider and a
 * NixOS box, exist; elsewhere every step is skipped with what their prerequisites check says.
 */
import { conformanceSuite } from './conformance.ts';

conformanceSuite({ tier: 'qemu', guest: 'nixos' });
conformanceSuite({ tier: 'vagrant', guest: 'nixos' });
