using FaceIndex.Cli;

return await CliApp.RunAsync(args).ConfigureAwait(false);
