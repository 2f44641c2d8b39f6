using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Dynamic batching across concurrent callers: aligned faces are queued; a dispatcher takes what
/// is queued, waits up to MaxBatchWait for more (until MaxBatch), and embeds the batch in parallel
/// over the embedder's sessions. Callers await their own face's embedding.
/// </summary>
internal sealed class EmbeddingBatcher : IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly FaceEmbedder _embedder;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxWait;
    private readonly ILogger _logger;
    private readonly Task _dispatcher;

    public EmbeddingBatcher(FaceEmbedder embedder, int maxBatch, TimeSpan maxWait, ILogger logger)
    {
        _embedder = embedder;
        _maxBatch = maxBatch;
        _maxWait = maxWait;
        _logger = logger;
        _dispatcher = Task.Factory.StartNew(DispatchAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Queues one aligned face (3×112×112 planes) and returns its unit 512-D embedding.</summary>
    /// <remarks>
    /// The task completes only once the dispatcher is done with <paramref name="aligned"/>, so the
    /// caller may reuse the buffer then. Cancellation drops a face that is still queued; a face
    /// already in a running batch finishes with it.
    /// </remarks>
    public Task<float[]> EmbedAsync(float[] aligned, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new Pending(aligned, new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously), ct);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        return pending.Completion.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _dispatcher.ConfigureAwait(false);
    }

    private async Task DispatchAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            Drain(reader, batch);
            if (batch.Count < _maxBatch && _maxWait > TimeSpan.Zero)
            {
                using var timeout = new CancellationTokenSource(_maxWait);
                try
                {
                    while (batch.Count < _maxBatch && await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false))
                    {
                        Drain(reader, batch);
                    }
                }
                catch (OperationCanceledException)
                {
                    // The wait for more faces is over: embed what is queued.
                }
            }

            Run(batch);
        }
    }

    private void Drain(ChannelReader<Pending> reader, List<Pending> batch)
    {
        while (batch.Count < _maxBatch && reader.TryRead(out var pending))
        {
            if (pending.Cancellation.IsCancellationRequested)
            {
                pending.Completion.TrySetCanceled(pending.Cancellation);
                continue;
            }

            batch.Add(pending);
        }
    }

    private void Run(List<Pending> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var inputs = new float[batch.Count][];
        var outputs = new float[batch.Count][];
        for (int i = 0; i < batch.Count; i++)
        {
            inputs[i] = batch[i].Aligned;
            outputs[i] = new float[FaceEmbedder.Dimensions];
        }

        try
        {
            _embedder.EmbedBatch(inputs, outputs);
            VisionLog.BatchEmbedded(_logger, batch.Count);
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(outputs[i]);
            }
        }
        catch (Exception ex)
        {
            VisionLog.EmbeddingFailed(_logger, ex);
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(ex);
            }
        }
    }

    private sealed record Pending(float[] Aligned, TaskCompletionSource<float[]> Completion, CancellationToken Cancellation);
}
