using FaceIndex.Testing;
using Spectre.Console;

namespace FaceIndex.Cli.Tests;

/// <summary>Runs the <c>faceindex</c> command line in-process and captures everything it writes.</summary>
internal static class CliRunner
{
    /// <summary>Runs the verbs with <c>--models</c> pointing at the repository's models where the verb takes it.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 240;
        int exit = await CliApp.RunAsync(args, console);
        return (exit, writer.ToString());
    }

    /// <summary>A deepface image.</summary>
    public static string Deepface(string file) => TestPaths.Faces("deepface", file);

    /// <summary>The repository's models folder, as the verbs' --models value.</summary>
    public static string Models => TestPaths.Models;
}
