using System.CommandLine;

namespace FaceIndex.Cli;

/// <summary>Builds the <c>faceindex</c> command tree; each verb lives in its own Commands/ file.</summary>
public static class CliApp
{
    /// <summary>Parses and runs the command line.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("FaceIndex: a face-identity database server and its tools.");
        root.Add(Commands.ModelsCommand.Create());
        root.Add(Commands.ServeCommand.Create());
        root.Add(Commands.ImportCommand.Create());
        root.Add(Commands.SearchCommand.Create());
        root.Add(Commands.HealthCommand.Create());
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }
}
