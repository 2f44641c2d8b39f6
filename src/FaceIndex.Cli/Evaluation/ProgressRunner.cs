using Spectre.Console;

namespace FaceIndex.Cli.Evaluation;

/// <summary>Embeds a list of images concurrently (feeding the pipeline's batcher) behind a progress bar.</summary>
internal static class ProgressRunner
{
    public static async Task<Dictionary<string, ImageEmbedding>> EmbedAllAsync(EvalEmbedder embedder, IReadOnlyList<string> files, CancellationToken ct)
    {
        var results = new Dictionary<string, ImageEmbedding>(StringComparer.Ordinal);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount * 2), CancellationToken = ct };
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"embedding {files.Count} images", maxValue: files.Count);
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
        embedder.SaveCache();
        return results;
    }
}
