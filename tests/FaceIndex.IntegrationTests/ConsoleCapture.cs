using FaceIndex.Cli;
using Spectre.Console;

namespace FaceIndex.IntegrationTests;

/// <summary>Tests that swap the process's console run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}

/// <summary>Runs a <c>faceindex</c> command line in-process and captures what it prints.</summary>
internal static class ConsoleCapture
{
    public static async Task<(int ExitCode, string Text)> RunAsync(string[] args)
    {
        var writer = new StringWriter();
        var previousOut = Console.Out;
        var previousConsole = AnsiConsole.Console;
        Console.SetOut(writer);
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
        });
        try
        {
            int code = await CliApp.RunAsync(args);
            return (code, writer.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            AnsiConsole.Console = previousConsole;
        }
    }
}
