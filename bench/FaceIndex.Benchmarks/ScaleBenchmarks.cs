namespace FaceIndex.Benchmarks;

/// <summary>
/// Registry of the console benchmarks: each verb maps to a program that prints a table.
/// Add a verb here when adding a scale benchmark.
/// </summary>
internal static class ScaleBenchmarks
{
    private static readonly Dictionary<string, Func<string[], int>> s_verbs = new(StringComparer.Ordinal)
    {
        ["generate"] = Data.GenerateCommand.Run,
        ["hnsw"] = Hnsw.HnswCommand.Run,
        ["cluster"] = Clustering.ClusterCommand.Run,
        ["knn-gpu"] = Clustering.KnnGpuCommand.Run,
        ["server"] = Server.ServerCommand.Run,
        ["store"] = Server.StoreCommand.Run,
        ["soak"] = Server.SoakCommand.Run,
        ["vision"] = Vision.VisionCommand.Run,
        ["scaleout"] = ScaleOut.ScaleOutCommand.Run,
    };

    public static bool TryRun(string[] args, out int exitCode)
    {
        if (s_verbs.TryGetValue(args[0], out var run))
        {
            exitCode = run(args[1..]);
            return true;
        }

        exitCode = 0;
        return false;
    }
}
