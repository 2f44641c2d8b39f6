using FaceIndex.Cli;
using Spectre.Console;

namespace FaceIndex.IntegrationTests;

/// <summary>Runs a <c>faceindex</c> command line in-process and captures what it prints.</summary>
internal static class ConsoleCapture
{
    public static async Task<(int ExitCode, string Text)> RunAsync(string[] args)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
        });
        int code = await CliApp.RunAsync(args, console);
        return (code, writer.ToString());
    }
}
