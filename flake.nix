# v6lab's pin of nixpkgs: the release web-arm runs (nixos-25.11). The nightly's NixOS jobs lock
# it (`nix flake lock` writes flake.lock on a networked runner the first time; a committed
# flake.lock is then verified to still follow nixos-25.11), build the qemu tier's NixOS guest
# from the locked revision (V6LAB_NIXPKGS=github:NixOS/nixpkgs/<rev>), and evaluate every
# design `lab export nixos` renders:
#   nix eval --json --impure --expr '(builtins.getFlake (toString ./.)).lib.evalExports ./nixos-eval'
# gives, per exported module (<design>.nix in that directory), the systemd units it adds to a
# minimal NixOS for web-arm (aarch64-linux), name -> unit file text: the module imports into a
# NixOS configuration of this nixpkgs and its units render. Evaluation only: nothing is built.
{
  description = "v6lab: web-arm's nixpkgs (nixos-25.11) for the NixOS guest and the exported design modules";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs = { self, nixpkgs }:
    let
      lib = nixpkgs.lib;
      # A NixOS that evaluates without hardware: web-arm's platform, no boot loader, a tmpfs root.
      minimal = {
        boot.loader.grub.enable = false;
        fileSystems."/" = { device = "none"; fsType = "tmpfs"; };
        nixpkgs.hostPlatform = "aarch64-linux";
        system.stateVersion = "25.11";
      };
      unitsOf = modules: (lib.nixosSystem { modules = [ minimal ] ++ modules; }).config.systemd.units;
      baseUnits = unitsOf [ ];
      # The units a module adds to the minimal NixOS, name -> unit file text.
      unitsAdded = module:
        let units = unitsOf [ module ];
        in lib.mapAttrs (_: unit: unit.text) (lib.filterAttrs (name: _: !(baseUnits ? ${name})) units);
    in
    {
      lib = {
        inherit unitsAdded;
        # Every <design>.nix in dir -> the units it adds.
        evalExports = dir:
          lib.mapAttrs' (file: _: lib.nameValuePair (lib.removeSuffix ".nix" file) (unitsAdded (dir + "/${file}")))
            (lib.filterAttrs (file: type: type == "regular" && lib.hasSuffix ".nix" file) (builtins.readDir dir));
      };
    };
}
