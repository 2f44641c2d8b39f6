using System.Globalization;
using FaceIndex.Index;

namespace FaceIndex.Benchmarks.Hnsw;

/// <summary>Arguments of the <c>hnsw</c> verb.</summary>
internal sealed record HnswBenchArgs(int N, int Threads, string? Data, int M, int EfConstruction, int[] Efs, string Cache)
{
    public const string Usage = "usage: hnsw --n N [--threads 2] [--data DIR] [--m 16] [--ef-construction 128] [--ef 16,32,64,128,256] [--cache DIR]";

    /// <summary>Parses the arguments; null when they are not valid.</summary>
    public static HnswBenchArgs? Parse(string[] args)
    {
        int n = 0;
        int threads = 2;
        int m = IndexOptions.DefaultM;
        int efConstruction = IndexOptions.DefaultEfConstruction;
        int[] efs = HnswAnchors.Efs;
        string? data = null;
        string cache = Path.Combine(Path.GetTempPath(), "faceindex-bench");
        for (int i = 0; i < args.Length; i++)
        {
            if (i + 1 == args.Length)
            {
                return null;
            }

            string value = args[++i];
            switch (args[i - 1])
            {
                case "--n": n = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--data": data = value; break;
                case "--m": m = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--ef-construction": efConstruction = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--ef": efs = [.. value.Split(',').Select(e => int.Parse(e, CultureInfo.InvariantCulture))]; break;
                case "--cache": cache = value; break;
                default: return null;
            }
        }

        return n <= 0 || n % 100_000 != 0 || efs.Length == 0 ? null : new HnswBenchArgs(n, threads, data, m, efConstruction, efs, cache);
    }
}
