using System.CommandLine;
using Spectre.Console;

namespace FaceIndex.Cli;

/// <summary>Builds the <c>faceindex</c> command tree; each verb lives in its own Commands/ file.</summary>
public static class CliApp
{
    /// <summary>Parses and runs the command line, writing to the process's console.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        // Redirected output (a file, a pipe, CI logs) has no width: keep tables on one line each.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Console.Profile.Width = Math.Max(AnsiConsole.Console.Profile.Width, 200);
        }

        return RunAsync(args, AnsiConsole.Console);
    }

    /// <summary>Parses and runs the command line, writing everything (help included) to <paramref name="console"/>.</summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, CancellationToken ct = default)
    {
        var root = new RootCommand("FaceIndex: a face-identity database server and its tools.");
        root.Add(Commands.ModelsCommand.Create(console));
        root.Add(Commands.EmbedCommand.Create(console));
        root.Add(Commands.VerifyCommand.Create(console));
        root.Add(Commands.EvalCommand.Create(console));
        root.Add(Commands.OpenSetCommand.Create(console));
        root.Add(Commands.ServeCommand.Create());
        root.Add(Commands.ImportCommand.Create(console));
        root.Add(Commands.SearchCommand.Create(console));
        root.Add(Commands.HealthCommand.Create(console));
        root.Add(Commands.ClusterStatusCommand.Create(console));
        root.Add(Commands.ClusterCommand.Create(console));
        root.Add(Commands.RepairCommand.Create(console));
        var parse = root.Parse(args);
        var invocation = new InvocationConfiguration { Output = console.Profile.Out.Writer, Error = console.Profile.Out.Writer };
        if (Commands.ImportCommand.HandlesTermination(parse.CommandResult.Command))
        {
            // Import drains its streams and writes its report on Ctrl-C; System.CommandLine would end it after 2 s.
            invocation.ProcessTerminationTimeout = null;
        }

        return await parse.InvokeAsync(invocation, ct).ConfigureAwait(false);
    }
}
