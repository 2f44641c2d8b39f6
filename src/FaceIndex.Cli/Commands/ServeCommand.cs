using System.CommandLine;
using FaceIndex.Core;
using FaceIndex.Server;

namespace FaceIndex.Cli.Commands;

/// <summary><c>faceindex serve [--port N] [--data DIR] [--Section:Setting=value …]</c>: runs the gRPC server until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var serve = new Command(
            "serve",
            "Run the FaceIndex gRPC server. Settings come from appsettings.json beside the binary, FACEINDEX__Section__Setting environment variables and --Section:Setting=value arguments (e.g. --Storage:DataDirectory=/var/lib/faceindex); short forms: --port, --address, --metrics-port, --data, --models, --provider, --config FILE.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        serve.SetAction(async (parse, ct) =>
        {
            try
            {
                await FaceIndexServer.RunAsync([.. parse.UnmatchedTokens], ct).ConfigureAwait(false);
                return 0;
            }
            catch (FaceIndexException ex)
            {
                // A start that cannot proceed (data directory read-only, full or in use; models missing):
                // one line that says what to fix, not a stack trace.
                await Console.Error.WriteLineAsync($"error ({ex.Error}): {ex.Message}").ConfigureAwait(false);
                return CliErrors.ExitCodeOf(ex);
            }
        });
        return serve;
    }
}
