using FaceIndex.Core;

namespace FaceIndex.Clustering;

/// <summary>
/// The tightness pass of <see cref="ConnectedComponents"/>: finds loose components and re-runs the
/// supported-edge union at tighter thresholds within each, relabelling the parts in place.
/// </summary>
internal sealed class ComponentSplitter
{
    /// <summary>Each re-split lowers the threshold by this fraction of the original.</summary>
    private const float TightenStep = 0.05f;

    /// <summary>Re-splitting stops once the threshold falls below this fraction of the original.</summary>
    private const float TightenFloor = 0.5f;

    private readonly KnnGraph _graph;
    private readonly ReadOnlyMemory<FaceVector> _vectors;
    private readonly int[] _labels;
    private readonly float _threshold;
    private readonly double _maxRadius;
    private readonly int _minShared;
    private readonly int[] _local;
    private readonly int[] _stamp;
    private readonly Centroid _centroid = new();
    private readonly Func<int, int> _toLocal;
    private readonly Func<int, bool> _inScope;
    private int _currentStamp;

    public ComponentSplitter(KnnGraph graph, ReadOnlyMemory<FaceVector> vectors, ClusteringOptions options, int[] labels)
    {
        _graph = graph;
        _vectors = vectors;
        _labels = labels;
        _threshold = options.Threshold;
        _maxRadius = options.EffectiveMaxRadius;
        _minShared = options.MinSharedNeighbors;
        _local = new int[labels.Length];
        _stamp = new int[labels.Length];
        _toLocal = row => _local[row];
        _inScope = row => _stamp[row] == _currentStamp;
    }

    /// <summary>Number of components that were found loose and re-split.</summary>
    public int Splits { get; private set; }

    public void SplitLoose(CancellationToken cancellationToken)
    {
        var work = new Stack<(int[] Members, int Step)>();
        foreach (var members in Group(_labels))
        {
            if (!IsTight(members))
            {
                work.Push((members, 1));
            }
        }

        var sets = new UnionFind(Math.Max(1, _labels.Length));
        while (work.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (members, step) = work.Pop();
            float threshold = _threshold * (1f - (step * TightenStep));
            if (threshold < _threshold * TightenFloor)
            {
                continue;
            }

            Splits++;
            int minDot = Similarity.MinDotForDistance(threshold);
            _currentStamp++;
            for (int i = 0; i < members.Length; i++)
            {
                _local[members[i]] = i;
                _stamp[members[i]] = _currentStamp;
            }

            sets.Reset(members.Length);
            foreach (int row in members)
            {
                ConnectedComponents.JoinSupported(_graph, sets, row, minDot, _minShared, _toLocal, _inScope);
            }

            // Relabel each part by its smallest row (members are ascending, so its first one).
            var parts = new Dictionary<int, List<int>>();
            foreach (int row in members)
            {
                int root = sets.Find(_local[row]);
                if (!parts.TryGetValue(root, out var part))
                {
                    part = [];
                    parts.Add(root, part);
                }

                part.Add(row);
            }

            foreach (var part in parts.Values)
            {
                var partMembers = part.ToArray();
                foreach (int row in partMembers)
                {
                    _labels[row] = partMembers[0];
                }

                if (!IsTight(partMembers))
                {
                    work.Push((partMembers, step + 1));
                }
            }
        }
    }

    /// <summary>Rows grouped by label, each group ascending; groups in order of their smallest row.</summary>
    internal static List<int[]> Group(int[] labels)
    {
        var groups = new List<int[]>();
        var count = new int[labels.Length];
        foreach (int label in labels)
        {
            count[label]++;
        }

        var slot = new int[labels.Length];
        Array.Fill(slot, -1);
        var filled = new int[labels.Length];
        for (int row = 0; row < labels.Length; row++)
        {
            int label = labels[row];
            if (slot[label] < 0)
            {
                slot[label] = groups.Count;
                groups.Add(new int[count[label]]);
            }

            groups[slot[label]][filled[label]++] = row;
        }

        return groups;
    }

    private bool IsTight(int[] members)
    {
        if (members.Length < 3)
        {
            return true;
        }

        var vectors = _vectors.Span;
        _centroid.Clear();
        foreach (int row in members)
        {
            _centroid.Add(vectors[row]);
        }

        foreach (int row in members)
        {
            if (_centroid.Distance(vectors[row]) > _maxRadius)
            {
                return false;
            }
        }

        return true;
    }
}
