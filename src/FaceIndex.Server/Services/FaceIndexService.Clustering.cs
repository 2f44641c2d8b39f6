using FaceIndex.Clustering;
using FaceIndex.Engine;
using FaceIndex.Server.Internal;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    private const int DefaultClusterPageSize = 100;
    private const int MaxClusterPageSize = 1000;

    public override async Task<V1.Operation> StartClustering(V1.StartClusteringRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        RequireCollection(collection);
        var defaults = clusteringDefaults.Value;
        var options = new ClusteringOptions
        {
            Algorithm = request.Algorithm switch
            {
                V1.ClusteringAlgorithm.Unspecified => defaults.Algorithm,
                V1.ClusteringAlgorithm.ConnectedComponents => ClusteringAlgorithm.ConnectedComponents,
                V1.ClusteringAlgorithm.ChineseWhispers => ClusteringAlgorithm.ChineseWhispers,
                _ => throw Errors.Rpc(StatusCode.InvalidArgument, "INVALID_ARGUMENT", $"Unknown clustering algorithm {request.Algorithm}."),
            },
            Threshold = request.HasThreshold ? request.Threshold : defaults.Threshold,
            K = request.K == 0 ? defaults.K : request.K,
            Ef = defaults.Ef,
            Seed = request.Seed == 0 ? defaults.Seed : (int)(request.Seed % int.MaxValue),
            MinSharedNeighbors = defaults.MinSharedNeighbors,
            MaxRadius = defaults.MaxRadius,
            MaxIterations = defaults.MaxIterations,
            MaxDegreeOfParallelism = defaults.MaxDegreeOfParallelism,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            Errors.ThrowInvalid(ex.Message);
        }

        var (job, running) = await clustering.StartRunAsync(collection, options, context.CancellationToken).ConfigureAwait(false);
        if (job is null)
        {
            throw Errors.Rpc(StatusCode.FailedPrecondition, "OPERATION_RUNNING", running!.Kind == JobKind.Clustering
                ? $"Collection '{collection}' is being clustered already: operation {running.Id}."
                : $"Collection '{collection}' is being migrated: operation {running.Id}; cluster it when that ends.");
        }

        return Operation(job);
    }

    public override async Task<V1.Operation> GetOperation(V1.GetOperationRequest request, ServerCallContext context) =>
        Operation(await RequireJobAsync(request.Id, context, write: false).ConfigureAwait(false));

    public override async Task<V1.Operation> CancelOperation(V1.CancelOperationRequest request, ServerCallContext context)
    {
        var job = await RequireJobAsync(request.Id, context, write: true).ConfigureAwait(false);
        if (!job.IsFinished)
        {
            job.Cancellation.Cancel();
        }

        return Operation(job);
    }

    public override async Task<V1.ListClustersResponse> ListClusters(V1.ListClustersRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        RequireCollection(collection);
        var result = RequireClustering(collection);
        if (request.PageSize < 0)
        {
            Errors.ThrowInvalid($"page_size must not be negative; got {request.PageSize}.");
        }

        // Over the maximum is clamped (the usual paging convention), not refused.
        int pageSize = request.PageSize == 0 ? DefaultClusterPageSize : Math.Min(request.PageSize, MaxClusterPageSize);

        int start = 0;
        if (request.PageToken.Length > 0 && (!int.TryParse(request.PageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out start) || start > result.Clusters.Length))
        {
            Errors.ThrowInvalid("page_token is not a token returned by ListClusters.");
        }

        int minSize = Math.Max(1, request.MinSize);
        var response = new V1.ListClustersResponse { OperationId = result.OperationId };
        int i = start;

        // Clusters are stored largest first: the first one under min_size ends the listing.
        for (; i < result.Clusters.Length && response.Clusters.Count < pageSize && result.Clusters[i].Size >= minSize; i++)
        {
            response.Clusters.Add(Summary(result.Clusters[i]));
        }

        bool more = i < result.Clusters.Length && result.Clusters[i].Size >= minSize;
        response.NextPageToken = more ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        return response;
    }

    public override async Task<V1.Cluster> GetCluster(V1.GetClusterRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        RequireCollection(collection);
        var result = RequireClustering(collection);
        if (request.ClusterId < 0 || request.ClusterId >= result.Clusters.Length)
        {
            Errors.ThrowNotFound($"Cluster {request.ClusterId} does not exist in the latest clustering of '{collection}' ({result.Clusters.Length} clusters).");
        }

        var cluster = result.Clusters[request.ClusterId];
        var message = new V1.Cluster { Summary = Summary(cluster) };
        foreach (long faceId in result.MembersOf(cluster))
        {
            message.FaceIds.Add((ulong)faceId);
        }

        return message;
    }

    private async Task<BackgroundJob> RequireJobAsync(string id, ServerCallContext context, bool write)
    {
        if (string.IsNullOrEmpty(id) || !clustering.TryGet(id, out var job))
        {
            throw Errors.Rpc(StatusCode.NotFound, "NOT_FOUND", $"Operation '{id}' does not exist (the newest 256 finished operations are kept).");
        }

        await authorization.DemandAsync(UserOf(context), new CollectionScope(job.Collection), write).ConfigureAwait(false);
        return job;
    }

    private StoredClustering RequireClustering(string collection) =>
        clustering.Latest(collection)
        ?? throw Errors.Rpc(StatusCode.NotFound, "NOT_FOUND", $"Collection '{collection}' has not been clustered; run StartClustering first.");

    private static V1.ClusterSummary Summary(in StoredCluster cluster) => new()
    {
        ClusterId = cluster.Id,
        Size = cluster.Size,
        RepresentativeFaceId = (ulong)cluster.Representative,
        SuggestedPersonId = cluster.SuggestedPerson,
        SuggestedPersonDistance = cluster.SuggestedDistance,
    };

    private static V1.Operation Operation(BackgroundJob job)
    {
        var (state, phase, progress, error, finishedAt, count) = job.Snapshot();
        var message = new V1.Operation
        {
            Id = job.Id,
            Kind = job.Kind == JobKind.Migration ? "migration" : "clustering",
            Collection = job.Collection,
            State = state switch
            {
                JobState.Pending => V1.OperationState.Pending,
                JobState.Running => V1.OperationState.Running,
                JobState.Succeeded => V1.OperationState.Succeeded,
                JobState.Failed => V1.OperationState.Failed,
                _ => V1.OperationState.Cancelled,
            },
            Phase = phase,
            Progress = progress,
            Error = error,
            CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt),
        };
        if (job.Migration is { } migration)
        {
            message.TargetCollection = migration.TargetCollection;
            message.TargetModel = migration.TargetModel;
            message.MigratedFaces = count;
        }
        else
        {
            message.ClusterCount = count;
        }

        if (finishedAt is { } finished)
        {
            message.FinishedAt = Timestamp.FromDateTimeOffset(finished);
        }

        return message;
    }
}
