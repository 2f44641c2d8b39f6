using System.Globalization;
using FaceIndex.Protocol.V1;
using Grpc.Core;
using Spectre.Console;

namespace FaceIndex.Cli.Clustering;

/// <summary>
/// Runs a clustering operation on a server: starts it, follows its progress (a progress bar, or one
/// line per phase when the output is not a terminal), cancels it when the user interrupts, and reads
/// the result back.
/// </summary>
internal static class ServerClustering
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Starts and follows the operation; returns it in its final state.</summary>
    public static async Task<Operation> RunAsync(IAnsiConsole console, Protocol.V1.FaceIndex.FaceIndexClient client, StartClusteringRequest request, bool showProgress, CancellationToken ct)
    {
        var operation = await client.StartClusteringAsync(request, cancellationToken: ct).ConfigureAwait(false);
        console.MarkupLineInterpolated($"operation {operation.Id}: clustering collection '{operation.Collection}'");
        try
        {
            if (!showProgress)
            {
                string last = "";
                return await FollowAsync(client, operation, (phase, fraction) =>
                {
                    if (phase != last && phase.Length > 0)
                    {
                        last = phase;
                        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{phase} ({fraction:P0})"));
                    }
                }, ct).ConfigureAwait(false);
            }

            Operation? final = null;
            await console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("pending", maxValue: 100);
                    final = await FollowAsync(client, operation, (phase, fraction) =>
                    {
                        task.Description = phase;
                        task.Value = fraction * 100;
                    }, ct).ConfigureAwait(false);
                    task.Value = final.State == OperationState.Succeeded ? 100 : task.Value;
                    task.StopTask();
                }).ConfigureAwait(false);
            return final!;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Interrupted here: stop the server's run too, rather than leave it working for no one.
            console.MarkupLineInterpolated($"interrupted: cancelling operation {operation.Id}");
            return await client.CancelOperationAsync(new CancelOperationRequest { Id = operation.Id }, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The newest result of a collection: clusters largest first, and every member when <paramref name="withMembers"/>.</summary>
    public static async Task<ClusterListing> ReadAsync(Protocol.V1.FaceIndex.FaceIndexClient client, string collection, bool withMembers, CancellationToken ct)
    {
        var clusters = new List<ClusterEntry>();
        string token = "";
        string operationId = "";
        do
        {
            var page = await client.ListClustersAsync(new ListClustersRequest { Collection = collection, PageSize = 1000, PageToken = token }, cancellationToken: ct).ConfigureAwait(false);
            operationId = page.OperationId;
            foreach (var c in page.Clusters)
            {
                clusters.Add(new ClusterEntry((int)c.ClusterId, c.Size, c.RepresentativeFaceId.ToString(CultureInfo.InvariantCulture), c.SuggestedPersonId, c.SuggestedPersonDistance));
            }

            token = page.NextPageToken;
        }
        while (token.Length > 0);

        var members = new List<ClusterMember>();
        if (withMembers)
        {
            foreach (var entry in clusters)
            {
                var cluster = await client.GetClusterAsync(new GetClusterRequest { Collection = collection, ClusterId = entry.Id }, cancellationToken: ct).ConfigureAwait(false);
                if (cluster.Summary.Size != entry.Size)
                {
                    throw new RpcException(new Grpc.Core.Status(StatusCode.Aborted, "The collection was clustered again while its result was being read; run the command again."));
                }

                foreach (ulong faceId in cluster.FaceIds)
                {
                    members.Add(new ClusterMember(faceId.ToString(CultureInfo.InvariantCulture), entry.Id));
                }
            }
        }

        return new ClusterListing(clusters, members, $"operation {operationId}");
    }

    /// <summary>Each face's enrolled person, as the labels of <c>--eval persons</c>.</summary>
    public static async Task<Dictionary<string, string>> PersonLabelsAsync(Protocol.V1.FaceIndex.FaceIndexClient client, string collection, CancellationToken ct)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        string token = "";
        do
        {
            var page = await client.ListPersonsAsync(new ListPersonsRequest { Collection = collection, PageSize = 1000, PageToken = token }, cancellationToken: ct).ConfigureAwait(false);
            foreach (var summary in page.Persons)
            {
                var person = await client.GetPersonAsync(new GetPersonRequest { Collection = collection, PersonId = summary.PersonId }, cancellationToken: ct).ConfigureAwait(false);
                foreach (var face in person.Faces)
                {
                    labels[face.FaceId.ToString(CultureInfo.InvariantCulture)] = person.PersonId;
                }
            }

            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return labels;
    }

    private static async Task<Operation> FollowAsync(Protocol.V1.FaceIndex.FaceIndexClient client, Operation operation, Action<string, double> report, CancellationToken ct)
    {
        while (operation.State is OperationState.Pending or OperationState.Running or OperationState.Unspecified)
        {
            report(operation.Phase, operation.Progress);
            await Task.Delay(s_pollInterval, ct).ConfigureAwait(false);
            operation = await client.GetOperationAsync(new GetOperationRequest { Id = operation.Id }, cancellationToken: ct).ConfigureAwait(false);
        }

        report(operation.Phase, operation.Progress);
        return operation;
    }
}
