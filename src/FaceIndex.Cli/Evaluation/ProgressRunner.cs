using Spectre.Console;

namespace FaceIndex.Cli.Evaluation;

/// <summary>Embeds a list of images concurrently (feeding the pipeline's batcher) behind a progress bar.</summary>
internal static class ProgressRunner
{
    public static async Task<Dictionary<string, ImageEmbedding>> EmbedAllAsync(IAnsiConsole console, EvalEmbedder embedder, IReadOnlyList<string> files, bool showProgress, CancellationToken ct)
    {
        var results = new Dictionary<string, ImageEmbedding>(StringComparer.Ordinal);

        // Two images in flight per core: one in the CPU stages while the other waits for its embedding.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount * 2), CancellationToken = ct };
        try
        {
            if (!showProgress)
            {
                await Parallel.ForEachAsync(files, parallel, async (file, token) =>
                {
                    var embedding = await embedder.EmbedAsync(file, token).ConfigureAwait(false);
                    lock (results)
                    {
                        results[file] = embedding;
                    }
                }).ConfigureAwait(false);
                return results;
            }

            await console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"embedding {files.Count} images", maxValue: Math.Max(1, files.Count));
                    await Parallel.ForEachAsync(files, parallel, async (file, token) =>
                    {
                        var embedding = await embedder.EmbedAsync(file, token).ConfigureAwait(false);
                        lock (results)
                        {
                            results[file] = embedding;
                        }

                        task.Increment(1);
                    }).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }
        finally
        {
            // An interrupted run keeps what it embedded.
            embedder.SaveCache();
        }

        return results;
    }
}
