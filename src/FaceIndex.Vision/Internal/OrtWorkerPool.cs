using System.Collections.Concurrent;
using FaceIndex.Core;
using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// A fixed set of <see cref="OrtWorker"/>s over one model: callers rent a worker, run it and return it.
/// By default the workers share one session (one copy of the weights and their pre-packed buffers:
/// half the memory, and as fast or faster than a session per worker in bench/README.md), or each has
/// its own. The session runs on the execution provider of the <see cref="ProviderPlan"/>; under
/// Provider=Auto a model whose CUDA session fails to start runs on the CPU instead, and says why.
/// </summary>
internal sealed class OrtWorkerPool : IDisposable
{
    private readonly ConcurrentBag<OrtWorker> _idle = [];
    private readonly SemaphoreSlim _available;
    private readonly List<OrtWorker> _all = [];
    private readonly List<InferenceSession> _sessions = [];

    public OrtWorkerPool(ModelSource model, VisionOptions options, ProviderPlan plan, int count, int maxBatch, long[] inputShape, (string Name, long[] Shape)[] outputs)
    {
        Provider = plan.Provider;
        try
        {
            for (int i = 0; i < count; i++)
            {
                if (i == 0 || !options.ShareSessions)
                {
                    _sessions.Add(OpenSession(model, options, plan));
                }

                var worker = new OrtWorker(_sessions[^1], inputShape, outputs, maxBatch);
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

    /// <summary>The execution provider the model's sessions run on.</summary>
    public ExecutionProvider Provider { get; private set; }

    /// <summary>Why the model runs on the CPU although the plan named a GPU provider; null otherwise.</summary>
    public string? FallbackReason { get; private set; }

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

    private InferenceSession OpenSession(ModelSource model, VisionOptions options, ProviderPlan plan)
    {
        using (var so = CreateSessionOptions(options, Provider))
        {
            try
            {
                return model.Open(so);
            }
            catch (OnnxRuntimeException ex) when (Provider != ExecutionProvider.Cpu)
            {
                if (!plan.MayFallBack)
                {
                    throw new FaceIndexException(FaceIndexError.ProviderUnavailable, $"Vision:Provider is {options.Provider} but {model.Name} does not start on {Provider}: {ex.Message}", ex);
                }

                FallbackReason = $"its {Provider} session failed: {ex.Message}";
                Provider = ExecutionProvider.Cpu;
            }
        }

        using var cpu = CreateSessionOptions(options, ExecutionProvider.Cpu);
        return model.Open(cpu);
    }

    /// <summary>Session options for the given provider (resolved: Cpu, Cuda or TensorRt, never Auto).</summary>
    internal static SessionOptions CreateSessionOptions(VisionOptions options, ExecutionProvider provider = ExecutionProvider.Cpu)
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
        try
        {
            // TensorRT takes the subgraphs it supports; CUDA takes the rest; the CPU what neither does.
            if (provider == ExecutionProvider.TensorRt)
            {
                so.AppendExecutionProvider_Tensorrt(options.DeviceId);
            }

            if (provider is ExecutionProvider.Cuda or ExecutionProvider.TensorRt)
            {
                so.AppendExecutionProvider_CUDA(options.DeviceId);
            }
        }
        catch (OnnxRuntimeException ex)
        {
            so.Dispose();
            throw new FaceIndexException(FaceIndexError.ProviderUnavailable, $"The {provider} execution provider failed to start: {ex.Message}", ex);
        }

        return so;
    }
}
