using FaceIndex.Cli.Evaluation;
using FaceIndex.Clustering;
using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Clustering;

/// <summary>
/// Clusters the images of a folder without a server: one face per image (the one nearest the
/// image's centre, as the evaluation verbs choose it; images without a detected face are left out),
/// embedded into the 128-byte code the server stores, then the same engine as a server's run
/// (exact kNN for small sets, an HNSW graph above <see cref="ExactBelow"/>). Members are keyed by
/// the image's path relative to the folder, with '/' separators.
/// </summary>
internal static class ImageClustering
{
    /// <summary>Sets smaller than this get an exact kNN graph.</summary>
    public const int ExactBelow = 20_000;

    public static async Task<ClusterListing> RunAsync(
        IAnsiConsole console,
        FacePipeline pipeline,
        string folder,
        string? cacheDirectory,
        ClusteringOptions options,
        bool showProgress,
        CancellationToken ct)
    {
        var files = ImageFiles.Find(folder);
        if (files.Count == 0)
        {
            throw new ArgumentException($"No image files (JPEG, PNG, WebP, BMP, GIF) under {folder}.");
        }

        var embedder = new EvalEmbedder(pipeline, cacheDirectory, mirror: false);
        var embeddings = await ProgressRunner.EmbedAllAsync(console, embedder, files, showProgress, ct).ConfigureAwait(false);
        var projection = pipeline.Projection ?? throw new InvalidOperationException("The model bundle has no projection to 128 dimensions.");
        var keys = new List<string>();
        var codes = new List<FaceVector>();
        var projected = new float[FaceVector.Dimensions];
        foreach (var file in files)
        {
            var embedding = embeddings[file];
            if (embedding.Outcome != ImageOutcome.Face)
            {
                continue;
            }

            projection.Apply(embedding.Plain, projected);
            codes.Add(Quantizer.QuantizeUnit(projected));
            keys.Add(Path.GetRelativePath(folder, file).Replace('\\', '/'));
        }

        int left = files.Count - keys.Count;
        console.MarkupLineInterpolated($"{keys.Count} of {files.Count} images have a face ({left} without one were left out)");
        var ids = new long[keys.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = i;
        }

        var vectors = codes.ToArray();
        using IVectorIndex index = ids.Length < ExactBelow ? new ExactIndex(Math.Max(1, ids.Length)) : new HnswIndex(new IndexOptions());
        if (index is HnswIndex hnsw)
        {
            hnsw.AddRange(ids, vectors, options.MaxDegreeOfParallelism, ct);
        }
        else
        {
            for (int i = 0; i < ids.Length; i++)
            {
                index.Add(ids[i], vectors[i]);
            }
        }

        var result = showProgress
            ? await WithProgressAsync(console, index, ids, vectors, options, ct).ConfigureAwait(false)
            : await FaceClusterer.ClusterAsync(index, ids, vectors, options, null, ct).ConfigureAwait(false);
        var clusters = new List<ClusterEntry>(result.ClusterCount);
        var members = new List<ClusterMember>(result.FaceCount);
        for (int c = 0; c < result.ClusterCount; c++)
        {
            var summary = result.GetSummary(c);
            clusters.Add(new ClusterEntry(c, summary.Size, keys[(int)summary.RepresentativeFaceId], "", 0));
            foreach (long member in result.GetMembers(c))
            {
                members.Add(new ClusterMember(keys[(int)member], c));
            }
        }

        return new ClusterListing(clusters, members, $"images of {folder}");
    }

    private static async Task<ClusteringResult> WithProgressAsync(IAnsiConsole console, IVectorIndex index, long[] ids, FaceVector[] vectors, ClusteringOptions options, CancellationToken ct)
    {
        ClusteringResult? result = null;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("clustering", maxValue: 100);
                var progress = new Progress<ClusteringProgress>(p =>
                {
                    task.Description = p.PhaseName;
                    task.Value = p.Phase switch
                    {
                        ClusteringPhase.KnnGraph => 85 * p.Fraction,
                        ClusteringPhase.Clustering => 85 + (10 * p.Fraction),
                        _ => 95 + (5 * p.Fraction),
                    };
                });
                result = await FaceClusterer.ClusterAsync(index, ids, vectors, options, progress, ct).ConfigureAwait(false);
                task.Value = 100;
            }).ConfigureAwait(false);
        return result!;
    }
}
