namespace FaceIndex.Benchmarks.Hnsw;

/// <summary>
/// hnswlib's figures on the same data and machine kind (shared/bench/ANCHORS.md: M = 16,
/// efConstruction = 200, int8 vectors, single-thread queries), for the ratios the benchmark prints.
/// </summary>
internal static class HnswAnchors
{
    /// <summary>The efs the anchors were measured at.</summary>
    public static readonly int[] Efs = [16, 32, 64, 128, 256];

    /// <summary>The anchor row for <paramref name="n"/> vectors, or null when ANCHORS.md has none.</summary>
    public static Anchor? For(int n) => n switch
    {
        100_000 => new Anchor("hnswlib int8, 1 build thread", 2_586, [.973, .996, 1, 1, 1], [24_768, 13_596, 6_994, 3_749, 1_982]),
        1_000_000 => new Anchor("hnswlib int8, 2 build threads", 2_804, [.684, .863, .983, .996, .999], [14_369, 8_069, 3_940, 2_660, 1_494]),
        _ => null,
    };

    /// <summary>
    /// Our best queries/s at a recall of at least <paramref name="recall"/> (ANCHORS.md's "1" read
    /// as ≥ 0.9995): the fastest measured ef that reaches it, or a linear interpolation between two
    /// consecutive efs whose recalls bracket it; null when no ef reaches it.
    /// </summary>
    public static double? QpsAtRecall(IReadOnlyList<(double Recall, double Qps)> curve, double recall)
    {
        double target = Math.Min(recall, 0.9995);
        double? best = null;
        for (int i = 0; i < curve.Count; i++)
        {
            if (curve[i].Recall < target)
            {
                continue;
            }

            double qps = curve[i].Qps;
            if (i > 0 && curve[i - 1].Recall < target)
            {
                double t = (target - curve[i - 1].Recall) / (curve[i].Recall - curve[i - 1].Recall);
                qps = curve[i - 1].Qps + (t * (curve[i].Qps - curve[i - 1].Qps));
            }

            best = Math.Max(best ?? 0, qps);
        }

        return best;
    }
}

/// <summary>One ANCHORS.md row: build rate, and recall@10 and queries/s at each of <see cref="HnswAnchors.Efs"/>.</summary>
internal sealed record Anchor(string Name, double BuildRate, double[] Recall, double[] Qps);
