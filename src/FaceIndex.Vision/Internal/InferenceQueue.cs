using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The dynamic batcher of one model: samples from every concurrent request (Enroll, EnrollStream,
/// Search, Verify, import, evaluation) go into one queue; one consumer per worker of the pool takes
/// a batch and runs it as one inference.
/// <list type="bullet">
/// <item>A batch holds at most <c>maxBatch</c> samples.</item>
/// <item>With <c>maxWait</c> 0 (the CPU default) a consumer takes only what is already queued, and
/// no more than its fair share of it (queued ÷ consumers, rounded up), so that every core works:
/// nothing ever waits for a batch to fill.</item>
/// <item>With <c>maxWait</c> &gt; 0 (the CUDA default) a consumer that has a sample waits for more
/// until the batch is full or the first sample has waited <c>maxWait</c>: no sample waits longer than
/// that for its batch to form.</item>
/// </list>
/// Callers await their sample's result instead of blocking a thread while every worker is busy.
/// </summary>
internal sealed class InferenceQueue : IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly OrtWorkerPool _pool;
    private readonly int _maxBatch;
    private readonly long _maxWaitTicks;
    private readonly ILogger _logger;
    private readonly Task[] _consumers;
    private long _batches;
    private long _samples;
    private long _longestWaitTicks;

    public InferenceQueue(OrtWorkerPool pool, int maxBatch, TimeSpan maxWait, ILogger logger)
    {
        _pool = pool;
        _maxBatch = maxBatch;
        _maxWaitTicks = (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
        _logger = logger;
        _consumers = new Task[pool.Count];
        for (int i = 0; i < _consumers.Length; i++)
        {
            _consumers[i] = Task.Run(ConsumeAsync);
        }
    }

    /// <summary>Inferences run so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Samples inferred so far (÷ <see cref="Batches"/> = the mean batch).</summary>
    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>The longest time a sample spent queued before its batch started, so far.</summary>
    public TimeSpan LongestWait => TimeSpan.FromSeconds(Interlocked.Read(ref _longestWaitTicks) / (double)Stopwatch.Frequency);

    /// <summary>
    /// Queues one sample (the model's input for one sample, e.g. 3×112×112 planes) and completes when
    /// <paramref name="output"/> holds the model's first output for it.
    /// </summary>
    /// <remarks>
    /// The task completes only once a consumer is done with <paramref name="input"/> and
    /// <paramref name="output"/>, so the caller may reuse them then. Cancellation drops a sample that is
    /// still queued; a sample already in a batch finishes.
    /// </remarks>
    public Task RunAsync(float[] input, float[] output, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new Pending(input, output, Stopwatch.GetTimestamp(), ct);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        return pending.Completion.Task;
    }

    /// <summary>Stops taking samples, runs those already queued, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_consumers).ConfigureAwait(false);
    }

    private async Task ConsumeAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (!reader.TryRead(out var first))
            {
                continue;
            }

            batch.Add(first);
            int want = _maxWaitTicks > 0 ? _maxBatch : Math.Min(_maxBatch, (reader.Count + 1 + _consumers.Length - 1) / _consumers.Length);
            long deadline = first.Enqueued + _maxWaitTicks;
            while (batch.Count < want)
            {
                if (reader.TryRead(out var next))
                {
                    batch.Add(next);
                    continue;
                }

                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0 || !await WaitForMoreAsync(reader, left).ConfigureAwait(false))
                {
                    break;
                }
            }

            Run(batch);
            batch.Clear();
        }
    }

    /// <summary>Waits until a sample is queued (true) or the time is up or the queue closed (false).</summary>
    private static async Task<bool> WaitForMoreAsync(ChannelReader<Pending> reader, long ticks)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(ticks / (double)Stopwatch.Frequency));
        try
        {
            return await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Run(List<Pending> batch)
    {
        batch.RemoveAll(static p =>
        {
            if (!p.Cancellation.IsCancellationRequested)
            {
                return false;
            }

            p.Completion.TrySetCanceled(p.Cancellation);
            return true;
        });
        if (batch.Count == 0)
        {
            return;
        }

        long waited = Stopwatch.GetTimestamp() - batch[0].Enqueued;
        for (long seen = Interlocked.Read(ref _longestWaitTicks); waited > seen; seen = Interlocked.Read(ref _longestWaitTicks))
        {
            if (Interlocked.CompareExchange(ref _longestWaitTicks, waited, seen) == seen)
            {
                break;
            }
        }

        var worker = _pool.Rent();
        try
        {
            int inLength = worker.InputLength, outLength = worker.OutputLengths[0];
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Input.AsSpan(0, inLength).CopyTo(worker.Input.AsSpan(i * inLength, inLength));
            }

            worker.Run(batch.Count);
            for (int i = 0; i < batch.Count; i++)
            {
                worker.Outputs[0].AsSpan(i * outLength, outLength).CopyTo(batch[i].Output);
            }
        }
        catch (Exception ex)
        {
            // A fault of the runtime reaches the callers; the consumer carries on with the next batch.
            VisionLog.InferenceFailed(_logger, batch.Count, ex);
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(ex);
            }

            return;
        }
        finally
        {
            _pool.Return(worker);
        }

        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _samples, batch.Count);
        foreach (var pending in batch)
        {
            pending.Completion.TrySetResult();
        }
    }

    private sealed class Pending(float[] input, float[] output, long enqueued, CancellationToken cancellation)
    {
        public float[] Input { get; } = input;

        public float[] Output { get; } = output;

        public CancellationToken Cancellation { get; } = cancellation;

        public long Enqueued { get; } = enqueued;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
