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
    /// Our queries/s at <paramref name="recall"/>, interpolated linearly between the two measured
    /// efs whose recalls bracket it (recall rises with ef); null when no measured pair brackets it.
    /// </summary>
    public static double? QpsAtRecall(IReadOnlyList<(double Recall, double Qps)> curve, double recall)
    {
        for (int i = 0; i < curve.Count; i++)
        {
            if (curve[i].Recall >= recall)
            {
                if (i == 0 || curve[i].Recall == curve[i - 1].Recall)
                {
                    return curve[i].Qps;
                }

                double t = (recall - curve[i - 1].Recall) / (curve[i].Recall - curve[i - 1].Recall);
                return curve[i - 1].Qps + (t * (curve[i].Qps - curve[i - 1].Qps));
            }
        }

        return null;
    }
}

/// <summary>One ANCHORS.md row: build rate, and recall@10 and queries/s at each of <see cref="HnswAnchors.Efs"/>.</summary>
internal sealed record Anchor(string Name, double BuildRate, double[] Recall, double[] Qps);
