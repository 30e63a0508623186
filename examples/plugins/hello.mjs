// Example Xray plugin. Copy it into XRAY_HOME/plugins/ (~/.xray/plugins/) to use it:
//   xray plugin list
//   xray plugin run hello uptime web
//   xray plugin run hello kernel web
// Its boot hook records the guest's kernel in the VM's vm.toml, under [plugins.hello].

/** commands become "xray plugin run hello NAME ARGS…" and actions in the app. */
export const commands = {
  uptime: {
    description: 'Show how long a VM has been up (argument: VM name)',
    async run(ctx, args) {
      const vm = ctx.open(args[0]);
      const result = await vm.run('uptime');
      if (result.code !== 0) throw new Error(`uptime exited with code ${result.code}: ${result.stderr.trim()}`);
      ctx.print(`${vm.vm}: ${result.stdout.trim()}`);
    },
  },
  kernel: {
    description: 'Show the guest kernel seen at the last boot (argument: VM name)',
    async run(ctx, args) {
      const vm = ctx.open(args[0]);
      const kernel = await vm.settings.get('kernel');
      const seen = await vm.settings.get('seen_at');
      ctx.print(kernel ? `${vm.vm}: ${kernel} (seen ${seen})` : `${vm.vm}: not booted with this plugin yet`);
    },
  },
};

/** hooks run after Xray's own and the user's hook scripts, in the same order of types. */
export const hooks = {
  async boot(ctx) {
    const result = await ctx.run('uname -sr');
    if (result.code !== 0) throw new Error(`uname exited with code ${result.code}`);
    const kernel = result.stdout.trim();
    if ((await ctx.settings.get('kernel')) !== kernel) ctx.log(`kernel is now ${kernel}`);
    await ctx.settings.set('kernel', kernel);
    await ctx.settings.set('seen_at', new Date().toISOString());
  },
};
