using FaceIndex.Core;

namespace FaceIndex.Clustering;

/// <summary>One cluster: its id, size, representative face and centroid.</summary>
/// <param name="ClusterId">Dense id, 0 … ClusterCount − 1; 0 is the largest cluster.</param>
/// <param name="Size">Number of member faces.</param>
/// <param name="RepresentativeFaceId">The member closest to the cluster's centroid.</param>
public readonly record struct ClusterSummary(int ClusterId, int Size, long RepresentativeFaceId);

/// <summary>
/// The outcome of a clustering run: every face's cluster, each cluster's members, size,
/// representative (the member closest to the centroid) and centroid code. Immutable; a plain value
/// the server persists per face (<see cref="FaceIds"/> and <see cref="ClusterIds"/> side by side).
/// </summary>
/// <remarks>
/// Cluster ids are dense and deterministic: clusters are numbered by size, largest first, ties by
/// the earliest member in the input order. Every face belongs to exactly one cluster; a face with
/// no close neighbour is a cluster of one.
/// </remarks>
public sealed partial class ClusteringResult
{
    private readonly long[] _faceIds;
    private readonly int[] _clusterIds;
    private readonly int[] _memberStart;
    private readonly long[] _members;
    private readonly long[] _representatives;
    private readonly FaceVector[] _centroids;
    private Dictionary<long, int>? _rowOfFace;

    private ClusteringResult(long[] faceIds, int[] clusterIds, int[] memberStart, long[] members, long[] representatives, FaceVector[] centroids)
    {
        _faceIds = faceIds;
        _clusterIds = clusterIds;
        _memberStart = memberStart;
        _members = members;
        _representatives = representatives;
        _centroids = centroids;
    }

    /// <summary>Number of faces clustered.</summary>
    public int FaceCount => _faceIds.Length;

    /// <summary>Number of clusters, singletons included.</summary>
    public int ClusterCount => _representatives.Length;

    /// <summary>The face ids, in the input order.</summary>
    public ReadOnlySpan<long> FaceIds => _faceIds;

    /// <summary>The cluster of each face, aligned with <see cref="FaceIds"/>.</summary>
    public ReadOnlySpan<int> ClusterIds => _clusterIds;

    /// <summary>Every cluster, largest first.</summary>
    public IEnumerable<ClusterSummary> Clusters
    {
        get
        {
            for (int c = 0; c < ClusterCount; c++)
            {
                yield return GetSummary(c);
            }
        }
    }

    /// <summary>Size and representative of one cluster.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such cluster.</exception>
    public ClusterSummary GetSummary(int clusterId) => new(clusterId, GetMembers(clusterId).Length, _representatives[clusterId]);

    /// <summary>The member face ids of a cluster, ascending in input order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such cluster.</exception>
    public ReadOnlySpan<long> GetMembers(int clusterId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(clusterId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(clusterId, ClusterCount);
        return _members.AsSpan(_memberStart[clusterId], _memberStart[clusterId + 1] - _memberStart[clusterId]);
    }

    /// <summary>The direction of a cluster's mean vector, as a code (for merge suggestions and search).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such cluster.</exception>
    public FaceVector GetCentroid(int clusterId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(clusterId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(clusterId, ClusterCount);
        return _centroids[clusterId];
    }

    /// <summary>The cluster of a face; false when the face was not clustered.</summary>
    public bool TryGetClusterId(long faceId, out int clusterId)
    {
        _rowOfFace ??= BuildRowIndex(_faceIds);
        if (_rowOfFace.TryGetValue(faceId, out int row))
        {
            clusterId = _clusterIds[row];
            return true;
        }

        clusterId = -1;
        return false;
    }

    private static Dictionary<long, int> BuildRowIndex(long[] faceIds)
    {
        var rows = new Dictionary<long, int>(faceIds.Length);
        for (int i = 0; i < faceIds.Length; i++)
        {
            rows[faceIds[i]] = i;
        }

        return rows;
    }
}
