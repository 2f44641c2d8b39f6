using System.Globalization;
using FaceIndex.Clustering;

namespace FaceIndex.Benchmarks.Clustering;

/// <summary>Arguments of the <c>cluster</c> scale benchmark.</summary>
internal sealed class ClusterBenchArgs
{
    public const string Usage =
        "usage: cluster [--n 1000000] [--graph hnsw|exact] [--algorithm cc|cw|all] [--threshold 0.84[,0.8,…]] " +
        "[--k 16] [--ef 0] [--m 16] [--ef-construction 100] [--threads 0] [--seed 1]";

    public int N { get; private set; } = 1_000_000;

    public string Graph { get; private set; } = "hnsw";

    public List<ClusteringAlgorithm> Algorithms { get; } = [];

    public List<float> Thresholds { get; } = [];

    public int K { get; private set; } = 16;

    public int Ef { get; private set; }

    public int Threads { get; private set; }

    public int M { get; private set; } = 16;

    public int EfConstruction { get; private set; } = 100;

    public int Seed { get; private set; } = 1;

    public static bool TryParse(string[] args, out ClusterBenchArgs parsed)
    {
        parsed = new ClusterBenchArgs();
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : string.Empty;
            switch (args[i])
            {
                case "--n": parsed.N = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--graph": parsed.Graph = value; break;
                case "--k": parsed.K = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--ef": parsed.Ef = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": parsed.Threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--m": parsed.M = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--ef-construction": parsed.EfConstruction = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seed": parsed.Seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threshold":
                    parsed.Thresholds.AddRange(value.Split(',').Select(t => float.Parse(t, CultureInfo.InvariantCulture)));
                    break;
                case "--algorithm":
                    parsed.Algorithms.AddRange(value switch
                    {
                        "cc" => [ClusteringAlgorithm.ConnectedComponents],
                        "cw" => [ClusteringAlgorithm.ChineseWhispers],
                        "all" => [ClusteringAlgorithm.ConnectedComponents, ClusteringAlgorithm.ChineseWhispers],
                        _ => throw new FormatException($"Unknown algorithm '{value}'."),
                    });
                    break;
                default:
                    return false;
            }

            i++;
        }

        if (parsed.Algorithms.Count == 0)
        {
            parsed.Algorithms.Add(ClusteringAlgorithm.ConnectedComponents);
        }

        if (parsed.Thresholds.Count == 0)
        {
            parsed.Thresholds.Add(new ClusteringOptions().Threshold);
        }

        return parsed.N > 0 && parsed.Graph is "hnsw" or "exact";
    }
}
