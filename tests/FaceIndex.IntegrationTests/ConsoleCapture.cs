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

        // Wide enough that a message is never wrapped in the middle of what a test looks for.
        console.Profile.Width = 400;
        int code = await CliApp.RunAsync(args, console);
        return (code, writer.ToString());
    }
}
