using Microsoft.Extensions.Logging;

namespace FaceIndex.Cluster.Internal;

/// <summary>Log messages of the cluster's grains and services (event ids 4000–4099).</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(4000, LogLevel.Information, "Replica of shard {Shard} of '{Collection}' opened on '{Node}' (primary: {Primary})")]
    public static partial void ReplicaOpened(ILogger logger, string collection, int shard, string node, bool primary);

    [LoggerMessage(4001, LogLevel.Warning, "Follower '{Node}' of shard {Shard} of '{Collection}' dropped from the in-sync set: {Reason}")]
    public static partial void FollowerDropped(ILogger logger, string collection, int shard, string node, string reason);

    [LoggerMessage(4002, LogLevel.Warning, "Replica of shard {Shard} of '{Collection}' on '{Node}' could not catch up yet: {Reason}")]
    public static partial void CatchUpFailed(ILogger logger, string collection, int shard, string node, string reason);

    [LoggerMessage(4003, LogLevel.Warning, "Replica of shard {Shard} of '{Collection}' on '{Node}' starts over from an empty store to follow '{Primary}'")]
    public static partial void StartingOver(ILogger logger, string collection, int shard, string node, string primary);

    [LoggerMessage(4004, LogLevel.Warning, "Shard {Shard} of '{Collection}': primary '{Primary}' is down; failing over")]
    public static partial void FailingOver(ILogger logger, string collection, int shard, string primary);

    [LoggerMessage(4005, LogLevel.Information, "Reconciling replicas failed: {Reason}")]
    public static partial void ReconcileFailed(ILogger logger, string reason);
}
