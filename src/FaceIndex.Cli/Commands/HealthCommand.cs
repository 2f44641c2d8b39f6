using System.CommandLine;
using Grpc.Health.V1;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary><c>faceindex health --server URL</c>: asks the server's grpc.health.v1 service; exit 0 when SERVING, 1 otherwise (the container health check).</summary>
internal static class HealthCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 5 };
        var server = new ServerClientOptions();
        var health = new Command("health", "Check that a server is up and serving (exit code 0), for health checks and scripts.");
        health.Add(timeout);
        server.AddTo(health);
        health.SetAction((parse, ct) => ServerClientOptions.RunAsync(console, async () =>
        {
            using var channel = server.Connect(parse);
            var client = new Health.HealthClient(channel);
            var reply = await client.CheckAsync(
                new HealthCheckRequest { Service = "faceindex.v1.FaceIndex" },
                deadline: DateTime.UtcNow.AddSeconds(parse.GetValue(timeout)),
                cancellationToken: ct).ConfigureAwait(false);
            console.WriteLine(reply.Status.ToString());
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        }));
        return health;
    }
}
