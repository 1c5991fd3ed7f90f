using KmsFarm.Client.Cli;

return await ClientCli.InvokeAsync(args).ConfigureAwait(false);
