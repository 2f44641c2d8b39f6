using FaceIndex.Core;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>Turns domain errors into a one-line message and an exit code (2; 3 for a corrupted store), instead of a stack trace.</summary>
internal static class CliErrors
{
    /// <summary>Exit code of a verb that failed with a domain error or a bad argument.</summary>
    public const int ExitError = 2;

    /// <summary>Exit code of a verb (serve included) that found the store corrupted (<see cref="FaceIndexError.StorageCorrupted"/>): run <c>faceindex repair</c>.</summary>
    public const int ExitStorageCorrupted = 3;

    /// <summary>The exit code of a domain error.</summary>
    public static int ExitCodeOf(FaceIndexException ex) => ex.Error == FaceIndexError.StorageCorrupted ? ExitStorageCorrupted : ExitError;

    /// <summary>Runs a verb; a <see cref="FaceIndexException"/> or a bad argument prints its message and returns 2.</summary>
    public static async Task<int> RunAsync(IAnsiConsole console, Func<Task<int>> verb)
    {
        try
        {
            return await verb().ConfigureAwait(false);
        }
        catch (FaceIndexException ex)
        {
            console.MarkupLineInterpolated($"[red]error ({ex.Error}):[/] {ex.Message}");
            return ExitCodeOf(ex);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or FormatException or InvalidDataException or UnauthorizedAccessException)
        {
            console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return ExitError;
        }
    }
}
