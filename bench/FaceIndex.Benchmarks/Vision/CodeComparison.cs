using System.Diagnostics;
using System.Globalization;
using FaceIndex.Core;
using FaceIndex.Evaluation;
using FaceIndex.Vision;

namespace FaceIndex.Benchmarks.Vision;

/// <summary>
/// <c>vision codes [--pairs celeba-dev/pairs.txt] [--fit lfw-disjoint]</c>: is another 128-byte code
/// better than PCA-128 + int8? Compares, on a pair list with the 10-fold protocol, float512, the
/// bundle's PCA-128 int8 code, and product quantization of the 512-D embedding into 128 sub-vectors
/// of 4 dimensions with 256 centroids each (128 bytes; codebooks fitted by k-means on the fitting
/// set, as the projection is), compared by the cosine of the reconstructed vectors; plus the cost
/// of one code-to-code distance of each kind.
/// </summary>
internal static class CodeComparison
{
    private const int Dimensions = 512;
    private const int SubVectors = 128;
    private const int SubDimensions = Dimensions / SubVectors;
    private const int Centroids = 256;

    public static int Run(string[] args)
    {
        string faces = Path.GetFullPath(Path.Combine(BenchImages.Deepface, ".."));
        string pairsName = "celeba-dev/pairs.txt", fitName = "lfw-disjoint";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--pairs")
            {
                pairsName = args[i + 1];
            }
            else if (args[i] == "--fit")
            {
                fitName = args[i + 1];
            }
        }

        var pairsPath = Path.Combine(faces, pairsName);
        var set = PairList.Load(pairsPath, Path.GetDirectoryName(pairsPath)!);
        using var pipeline = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models });
        Console.WriteLine($"vision codes: {set.Pairs.Count} pairs of {pairsName}; codebooks fitted on {fitName}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

        var fitFiles = Directory.GetFiles(Path.Combine(faces, fitName), "*.jpg", SearchOption.AllDirectories);
        Array.Sort(fitFiles, StringComparer.Ordinal);
        var fit = EmbedAll(pipeline, fitFiles);
        var testFiles = set.Pairs.SelectMany(p => new[] { p.PathA, p.PathB }).Distinct(StringComparer.Ordinal).ToArray();
        var test = EmbedAll(pipeline, testFiles);

        var clock = Stopwatch.StartNew();
        var codebooks = FitCodebooks(fit.Values.ToList());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"k-means codebooks: {SubVectors} × {Centroids} centroids of {SubDimensions} dimensions on {fit.Count} embeddings in {clock.Elapsed.TotalSeconds:F1} s"));

        var pq = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var int8 = new Dictionary<string, FaceVector>(StringComparer.Ordinal);
        var projected = new float[FaceVector.Dimensions];
        double pqError = 0;
        foreach (var (path, e) in test)
        {
            var reconstruction = Reconstruct(codebooks, Encode(codebooks, e));
            pqError += 1 - VectorMath.Dot(e, reconstruction) / MathF.Sqrt(VectorMath.Dot(reconstruction, reconstruction));
            VectorMath.Normalize(reconstruction);
            pq[path] = reconstruction;
            pipeline.Projection!.Apply(e, projected);
            int8[path] = Quantizer.QuantizeUnit(projected);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PQ reconstruction: mean 1 − cos(x, x̂) = {pqError / test.Count:F4} on the test images"));
        Console.WriteLine();
        Console.WriteLine("| code | bytes | accuracy % (mean ± std) | AUC | TAR @ FAR 0.1 % | ns per distance |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Row(set, "float512", 2048, p => Similarity.DistanceFromCosine(VectorMath.Dot(test[p.PathA], test[p.PathB])), FloatCost(test));
        Row(set, "PCA-128 int8 (bundle)", 128, p => Similarity.Distance(int8[p.PathA], int8[p.PathB]), Int8Cost(int8));
        Row(set, "PQ 128×8 bits", 128, p => Similarity.DistanceFromCosine(VectorMath.Dot(pq[p.PathA], pq[p.PathB])), PqCost(codebooks, test));
        return 0;
    }

    private static void Row(PairSet set, string name, int bytes, Func<VerificationPair, float> distance, double nanoseconds)
    {
        int n = set.Pairs.Count;
        var d = new float[n];
        var same = new bool[n];
        var folds = new int[n];
        for (int i = 0; i < n; i++)
        {
            d[i] = distance(set.Pairs[i]);
            same[i] = set.Pairs[i].Same;
            folds[i] = set.Pairs[i].Fold;
        }

        var r = VerificationProtocol.Evaluate(d, same, folds, set.Folds);
        string tar = r.TarAtFar is { } t ? string.Create(CultureInfo.InvariantCulture, $"{t * 100:F2} %") : "—";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {bytes} | {r.MeanAccuracy * 100:F2} ± {r.StdAccuracy * 100:F2} | {r.Auc:F4} | {tar} | {nanoseconds:F1} |"));
    }

    /// <summary>Unit 512-D embeddings of the face nearest each image's centre (centre crop when none is found).</summary>
    private static Dictionary<string, float[]> EmbedAll(FacePipeline pipeline, string[] files)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();

        // The bench verb registry is synchronous: this is the verb's top level.
        Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 2 }, async (file, ct) =>
        {
            var prepared = pipeline.Prepare(File.ReadAllBytes(file), centreCropFallback: true);
            try
            {
                int best = 0;
                float bestDistance = float.MaxValue;
                for (int i = 0; i < prepared.Faces.Count; i++)
                {
                    var b = prepared.Faces[i].Detection.Box;
                    float dx = b.X + (b.Width / 2) - (prepared.Width / 2f), dy = b.Y + (b.Height / 2) - (prepared.Height / 2f);
                    if ((dx * dx) + (dy * dy) < bestDistance)
                    {
                        (best, bestDistance) = (i, (dx * dx) + (dy * dy));
                    }
                }

                var embedding = (await pipeline.EmbedAlignedAsync([prepared.Faces[best].Aligned], flip: false, ct).ConfigureAwait(false))[0];
                lock (result)
                {
                    result[file] = embedding;
                }
            }
            finally
            {
                prepared.Faces.ForEach(f => f.Release());
            }
        }).GetAwaiter().GetResult();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"embedded {files.Length} images in {clock.Elapsed.TotalSeconds:F0} s"));
        return result;
    }

    /// <summary>k-means (k-means++ seeding, fixed seed, 25 Lloyd iterations) in each 4-D sub-space.</summary>
    private static float[][] FitCodebooks(List<float[]> samples)
    {
        var books = new float[SubVectors][];
        Parallel.For(0, SubVectors, m =>
        {
            var random = new Random(1000 + m);
            int n = samples.Count, off = m * SubDimensions;
            var book = new float[Centroids * SubDimensions];
            var nearest = new double[n];
            Array.Fill(nearest, double.MaxValue);
            int first = random.Next(n);
            Array.Copy(samples[first], off, book, 0, SubDimensions);
            for (int c = 1; c < Centroids; c++)
            {
                double total = 0;
                for (int i = 0; i < n; i++)
                {
                    nearest[i] = Math.Min(nearest[i], Squared(samples[i], off, book, c - 1));
                    total += nearest[i];
                }

                double pick = random.NextDouble() * total;
                int chosen = n - 1;
                for (int i = 0; i < n; i++)
                {
                    pick -= nearest[i];
                    if (pick <= 0)
                    {
                        chosen = i;
                        break;
                    }
                }

                Array.Copy(samples[chosen], off, book, c * SubDimensions, SubDimensions);
            }

            var assignment = new int[n];
            for (int iteration = 0; iteration < 25; iteration++)
            {
                var sums = new double[Centroids * SubDimensions];
                var counts = new int[Centroids];
                for (int i = 0; i < n; i++)
                {
                    assignment[i] = Nearest(book, samples[i].AsSpan(off, SubDimensions));
                    counts[assignment[i]]++;
                    for (int d = 0; d < SubDimensions; d++)
                    {
                        sums[(assignment[i] * SubDimensions) + d] += samples[i][off + d];
                    }
                }

                for (int c = 0; c < Centroids; c++)
                {
                    if (counts[c] == 0)
                    {
                        continue;
                    }

                    for (int d = 0; d < SubDimensions; d++)
                    {
                        book[(c * SubDimensions) + d] = (float)(sums[(c * SubDimensions) + d] / counts[c]);
                    }
                }
            }

            books[m] = book;
        });
        return books;
    }

    private static double Squared(float[] sample, int off, float[] book, int c)
    {
        double s = 0;
        for (int d = 0; d < SubDimensions; d++)
        {
            double x = sample[off + d] - book[(c * SubDimensions) + d];
            s += x * x;
        }

        return s;
    }

    private static int Nearest(float[] book, ReadOnlySpan<float> x)
    {
        int best = 0;
        float bestDistance = float.MaxValue;
        for (int c = 0; c < Centroids; c++)
        {
            float s = 0;
            for (int d = 0; d < SubDimensions; d++)
            {
                float v = x[d] - book[(c * SubDimensions) + d];
                s += v * v;
            }

            if (s < bestDistance)
            {
                (best, bestDistance) = (c, s);
            }
        }

        return best;
    }

    private static byte[] Encode(float[][] books, float[] x)
    {
        var code = new byte[SubVectors];
        for (int m = 0; m < SubVectors; m++)
        {
            code[m] = (byte)Nearest(books[m], x.AsSpan(m * SubDimensions, SubDimensions));
        }

        return code;
    }

    private static float[] Reconstruct(float[][] books, byte[] code)
    {
        var x = new float[Dimensions];
        for (int m = 0; m < SubVectors; m++)
        {
            Array.Copy(books[m], code[m] * SubDimensions, x, m * SubDimensions, SubDimensions);
        }

        return x;
    }

    private static double Int8Cost(Dictionary<string, FaceVector> codes)
    {
        var list = codes.Values.Take(256).ToArray();
        long sum = 0;
        return Time(list.Length, (i, j) => sum += VectorMath.Dot(list[i].AsSpan(), list[j].AsSpan()));
    }

    private static double FloatCost(Dictionary<string, float[]> vectors)
    {
        var list = vectors.Values.Take(256).ToArray();
        double sum = 0;
        return Time(list.Length, (i, j) => sum += VectorMath.Dot(list[i], list[j]));
    }

    /// <summary>Symmetric PQ distance: 128 look-ups in per-sub-space 256 × 256 tables of centroid dot products.</summary>
    private static double PqCost(float[][] books, Dictionary<string, float[]> vectors)
    {
        var tables = new float[SubVectors * Centroids * Centroids];
        for (int m = 0; m < SubVectors; m++)
        {
            for (int a = 0; a < Centroids; a++)
            {
                for (int b = 0; b < Centroids; b++)
                {
                    float s = 0;
                    for (int d = 0; d < SubDimensions; d++)
                    {
                        s += books[m][(a * SubDimensions) + d] * books[m][(b * SubDimensions) + d];
                    }

                    tables[(((m * Centroids) + a) * Centroids) + b] = s;
                }
            }
        }

        var codes = vectors.Values.Take(256).Select(v => Encode(books, v)).ToArray();
        double sum = 0;
        return Time(codes.Length, (i, j) =>
        {
            float s = 0;
            var (x, y) = (codes[i], codes[j]);
            for (int m = 0; m < SubVectors; m++)
            {
                s += tables[(((m * Centroids) + x[m]) * Centroids) + y[m]];
            }

            sum += s;
        });
    }

    private static double Time(int n, Action<int, int> distance)
    {
        for (int i = 0; i < n; i++)
        {
            distance(i, (i + 1) % n);
        }

        var clock = Stopwatch.StartNew();
        long calls = 0;
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    distance(i, j);
                }
            }

            calls += (long)n * n;
        }

        return clock.Elapsed.TotalMilliseconds * 1e6 / calls;
    }
}
