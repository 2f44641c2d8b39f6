using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FaceIndex.Cluster.Internal;

/// <summary>
/// Runs on every node: at each <see cref="ClusterNodeOptions.ReconcileInterval"/> it opens the node's
/// replicas (a returning node's followers start catching up) and asks the catalog to fail over the
/// shards whose primary's node membership no longer lists as active.
/// </summary>
internal sealed class NodeReconciler(
    IGrainFactory grains,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    IOptions<ClusterNodeOptions> options,
    ILogger<NodeReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.ReconcileInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stoppingToken).ConfigureAwait(false);
                await ReconcileAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                ClusterLog.ReconcileFailed(logger, ex.Message);
            }
        }
    }

    private async Task ReconcileAsync()
    {
        var active = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active)
            {
                active.Add(member.Name);
            }
        }

        var catalog = grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);
        foreach (var layout in await catalog.ListAsync().ConfigureAwait(false))
        {
            for (int s = 0; s < layout.Shards.Count; s++)
            {
                var shard = layout.Shards[s];
                if (!active.Contains(shard.Primary))
                {
                    ClusterLog.FailingOver(logger, layout.Name, s, shard.Primary);
                    await catalog.FailoverAsync(layout.Name, s, shard.Epoch).ConfigureAwait(false);
                }

                if (shard.Replicas.Contains(silo.Name))
                {
                    await grains.GetGrain<IShardReplicaGrain>(ReplicaKey.Format(layout.Name, s, silo.Name)).OpenAsync().ConfigureAwait(false);
                }
            }
        }
    }
}
