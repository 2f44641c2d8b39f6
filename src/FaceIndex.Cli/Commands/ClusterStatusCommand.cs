using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex cluster-status --server URL [--collection NAME]</c>: the nodes of a cluster and every
/// shard replica (primary or follower, in sync or catching up, counts, lag), from the Stats of any node.
/// Exit 0 when every replica is in sync, 1 when some are not (catching up, down, needing a copy), 2 on
/// errors, including a server that is not in cluster mode.
/// </summary>
internal static class ClusterStatusCommand
{
    /// <summary>Exit code when the cluster answers but some replica is not in sync.</summary>
    public const int ExitNotInSync = 1;

    public static Command Create(IAnsiConsole console)
    {
        var server = new ServerClientOptions();
        var command = new Command("cluster-status", "Show the nodes of a cluster (faceindex serve --cluster) and every shard replica: primaries, states, counts and lag. Exit 0 when every replica is in sync, 1 when not. Without --collection: every collection.");
        server.AddTo(command);
        command.SetAction((parse, ct) => ServerClientOptions.RunAsync(console, async () =>
        {
            using var channel = server.Connect(parse);
            var client = new V1.FaceIndex.FaceIndexClient(channel);
            var stats = await client.StatsAsync(new V1.StatsRequest { Collection = server.GivenCollection(parse) ?? string.Empty }, cancellationToken: ct).ConfigureAwait(false);
            if (stats.Cluster is null)
            {
                console.MarkupLineInterpolated($"[red]error:[/] the server at {server.ServerAddress(parse)} is a single node, not a cluster node (start nodes with 'faceindex serve --cluster').");
                return CliErrors.ExitError;
            }

            return Print(console, stats);
        }));
        return command;
    }

    /// <summary>Writes the nodes and replicas tables and a summary; returns the exit code.</summary>
    internal static int Print(IAnsiConsole console, V1.StatsResponse stats)
    {
        var cluster = stats.Cluster;
        var nodes = new Table().AddColumns("Node", "Status", "Address", "Started (UTC)");
        foreach (var node in cluster.Nodes)
        {
            var started = node.StartedAt?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? string.Empty;
            nodes.AddRow(Markup.Escape(node.Name), node.Status == "active" ? node.Status : $"[yellow]{Markup.Escape(node.Status)}[/]", Markup.Escape(node.Address), started);
        }

        var replicas = new Table().AddColumns("Collection", "Shard", "Node", "Role", "State", "Faces", "Indexed", "Pending", "Lag (bytes)", "Reason");
        int inSync = 0;
        foreach (var replica in cluster.Replicas)
        {
            bool ok = replica.State == "in-sync";
            inSync += ok ? 1 : 0;
            replicas.AddRow(
                Markup.Escape(replica.Collection),
                replica.Shard.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(replica.Node),
                replica.Role,
                ok ? replica.State : $"[yellow]{Markup.Escape(replica.State)}[/]",
                Count(replica.Faces),
                Count(replica.IndexedFaces),
                Count(replica.PendingFaces),
                replica.LagBytes < 0 ? "?" : Count(replica.LagBytes),
                Markup.Escape(replica.Reason));
        }

        console.Write(nodes);
        console.Write(replicas);
        int active = cluster.Nodes.Count(n => n.Status == "active");
        int shards = cluster.Replicas.Select(r => (r.Collection, r.Shard)).Distinct().Count();
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"answered by {cluster.Node}: {cluster.Nodes.Count} nodes ({active} active), {stats.Collections} collections, {stats.Faces:N0} faces, {shards} shards, {cluster.Replicas.Count} replicas ({inSync} in sync)"));
        return inSync == cluster.Replicas.Count ? 0 : ExitNotInSync;
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
