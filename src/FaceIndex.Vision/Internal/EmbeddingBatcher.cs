using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Batching across concurrent callers for a model whose batch dimension is fixed at 1: aligned faces
/// from every request go into one queue, and one consumer per model worker takes the next face as
/// soon as it is free. A batch (many faces of one call, or of many calls) thus spreads over all
/// workers at once with no waiting for a batch to fill and no per-batch fork/join; callers await
/// their own face's embedding instead of blocking a thread while every worker is busy.
/// </summary>
internal sealed class EmbeddingBatcher : IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly FaceEmbedder _embedder;
    private readonly ILogger _logger;
    private readonly Task[] _consumers;

    public EmbeddingBatcher(FaceEmbedder embedder, ILogger logger)
    {
        _embedder = embedder;
        _logger = logger;
        _consumers = new Task[embedder.Parallelism];
        for (int i = 0; i < _consumers.Length; i++)
        {
            _consumers[i] = Task.Run(ConsumeAsync);
        }
    }

    /// <summary>Queues one aligned face (3×112×112 planes) and returns its unit 512-D embedding.</summary>
    /// <remarks>
    /// The task completes only once a consumer is done with <paramref name="aligned"/>, so the
    /// caller may reuse the buffer then. Cancellation drops a face that is still queued; a face
    /// already being embedded finishes.
    /// </remarks>
    public Task<float[]> EmbedAsync(float[] aligned, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new Pending(aligned, new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously), ct);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        return pending.Completion.Task;
    }

    /// <summary>Stops taking faces, embeds those already queued, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_consumers).ConfigureAwait(false);
    }

    private async Task ConsumeAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var pending))
            {
                Run(pending);
            }
        }
    }

    private void Run(Pending pending)
    {
        if (pending.Cancellation.IsCancellationRequested)
        {
            pending.Completion.TrySetCanceled(pending.Cancellation);
            return;
        }

        var embedding = new float[FaceEmbedder.Dimensions];
        try
        {
            _embedder.Embed(pending.Aligned, embedding);
        }
        catch (Exception ex)
        {
            // A fault of the runtime reaches the caller; the consumer carries on with the next face.
            VisionLog.EmbeddingFailed(_logger, ex);
            pending.Completion.TrySetException(ex);
            return;
        }

        pending.Completion.TrySetResult(embedding);
    }

    private sealed record Pending(float[] Aligned, TaskCompletionSource<float[]> Completion, CancellationToken Cancellation);
}
