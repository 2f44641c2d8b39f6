using System.Collections.Concurrent;
using FaceIndex.Core;
using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// A fixed set of <see cref="OrtWorker"/>s over one model: callers rent a worker, run it and return it.
/// The models' batch dimension is fixed at 1, so parallelism comes from concurrent runs: by default
/// the workers share one single-threaded session (one copy of the weights and their pre-packed
/// buffers: half the memory, and as fast or faster than a session per worker in bench/README.md),
/// or each has its own.
/// </summary>
internal sealed class OrtWorkerPool : IDisposable
{
    private readonly ConcurrentBag<OrtWorker> _idle = [];
    private readonly SemaphoreSlim _available;
    private readonly List<OrtWorker> _all = [];
    private readonly List<InferenceSession> _sessions = [];

    public OrtWorkerPool(string modelPath, VisionOptions options, int count, long[] inputShape, (string Name, long[] Shape)[] outputs)
    {
        try
        {
            for (int i = 0; i < count; i++)
            {
                if (i == 0 || !options.ShareSessions)
                {
                    using var sessionOptions = CreateSessionOptions(options);
                    _sessions.Add(new InferenceSession(modelPath, sessionOptions));
                }

                var worker = new OrtWorker(_sessions[^1], inputShape, outputs);
                _all.Add(worker);
                _idle.Add(worker);
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        _available = new SemaphoreSlim(count, count);
    }

    /// <summary>Number of workers.</summary>
    public int Count => _all.Count;

    /// <summary>Takes an idle worker, waiting while all are busy.</summary>
    public OrtWorker Rent()
    {
        _available.Wait();
        _idle.TryTake(out var worker);
        return worker!;
    }

    /// <summary>Gives a worker back.</summary>
    public void Return(OrtWorker worker)
    {
        _idle.Add(worker);
        _available.Release();
    }

    public void Dispose()
    {
        foreach (var worker in _all)
        {
            worker.Dispose();
        }

        foreach (var session in _sessions)
        {
            session.Dispose();
        }

        _available?.Dispose();
    }

    /// <summary>Session options from the vision options; CUDA is refused with a clear error when the runtime lacks it.</summary>
    internal static SessionOptions CreateSessionOptions(VisionOptions options)
    {
        var so = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = options.GraphOptimization switch
            {
                GraphOptimization.None => GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
        };

        so.AddSessionConfigEntry("session.intra_op.allow_spinning", options.IntraOpSpinning ? "1" : "0");
        if (options.Provider == ExecutionProvider.Cuda)
        {
            var available = OrtEnv.Instance().GetAvailableProviders();
            if (!available.Contains("CUDAExecutionProvider"))
            {
                so.Dispose();
                throw new FaceIndexException(
                    FaceIndexError.ProviderUnavailable,
                    $"Vision:Provider is Cuda but this ONNX Runtime build offers only {string.Join(", ", available)}. Use Provider=Cpu, or install the Microsoft.ML.OnnxRuntime.Gpu build and a CUDA runtime.");
            }

            try
            {
                so.AppendExecutionProvider_CUDA(0);
            }
            catch (OnnxRuntimeException ex)
            {
                so.Dispose();
                throw new FaceIndexException(FaceIndexError.ProviderUnavailable, $"Vision:Provider is Cuda but the CUDA execution provider failed to start: {ex.Message}", ex);
            }
        }

        return so;
    }
}
