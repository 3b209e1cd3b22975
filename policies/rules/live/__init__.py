"""Live-only rules: facts only a read of the running account can know (connection, key state, proxy health,
read coverage). Each reads properties the live adapters (``policies/inputs/live``) set; a preview or stack export
never carries them, so these rules find nothing there."""
