using FaceIndex.Gpu.Internal;
using FaceIndex.Index;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace FaceIndex.Gpu;

/// <summary>
/// <see cref="IExactScanner"/> on a GPU through ILGPU: the kernels are C#, compiled to PTX when the
/// scanner is created, and need only the NVIDIA driver (no CUDA toolkit libraries). Results are
/// identical to <see cref="CpuExactScanner"/>'s. Also runs on ILGPU's CPU accelerator, which
/// executes the same kernels on the processor: slow, for tests on machines without a GPU.
/// </summary>
/// <remarks>One device, shared by the scanner's corpora: their transfers and launches take turns.</remarks>
public sealed class GpuExactScanner : IExactScanner, IDisposable
{
    private readonly Context _context;

    private GpuExactScanner(Context context, Accelerator accelerator, bool isCuda)
    {
        _context = context;
        Accelerator = accelerator;
        IsCuda = isCuda;
        ScanKernel = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, ArrayView<long>, ArrayView<long>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ScanShape>(ScanKernels.Scan);
        MergeKernel = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<long>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ScanShape>(ScanKernels.Merge);
        // Several waves of groups per multiprocessor, so that the last wave's idle tail is small.
        TargetGroups = Math.Max(1, accelerator.NumMultiprocessors) * 16;
        Description = isCuda
            ? $"CUDA: {accelerator.Name}, {accelerator.NumMultiprocessors} SMs, {accelerator.MemorySize >> 30} GiB"
            : $"ILGPU CPU accelerator ({accelerator.NumMultiprocessors} processors)";
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <summary>True on a CUDA device; false on ILGPU's CPU accelerator.</summary>
    public bool IsCuda { get; }

    /// <inheritdoc />
    /// <remarks>
    /// 262,144 vectors on a CUDA device (where the processor's scan of one query takes milliseconds
    /// and the device's fixed cost of a call is tens of microseconds); never on the CPU accelerator.
    /// </remarks>
    public int SingleQueryCrossover => IsCuda ? 262_144 : int.MaxValue;

    internal Accelerator Accelerator { get; }

    /// <summary>Serialises use of the device by the scanner's corpora.</summary>
    internal object Gate { get; } = new();

    /// <summary>Thread groups that keep the device busy; a launch with fewer queries splits the corpus to reach it.</summary>
    internal int TargetGroups { get; }

    internal Action<KernelConfig, ArrayView<int>, ArrayView<int>, ArrayView<long>, ArrayView<long>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ScanShape> ScanKernel { get; }

    internal Action<KernelConfig, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<long>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ScanShape> MergeKernel { get; }

    /// <summary>
    /// The scanner on the first CUDA device, or null with the reason (no driver, no device, or
    /// the kernels failed to compile or load).
    /// </summary>
    public static GpuExactScanner? TryCreateCuda(out string reason)
    {
        Context? context = null;
        try
        {
            context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2));
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                reason = "no CUDA device (or no NVIDIA driver: libcuda not loadable)";
                context.Dispose();
                return null;
            }

            var accelerator = devices[0].CreateAccelerator(context);
            reason = $"CUDA device {accelerator.Name}";
            return new GpuExactScanner(context, accelerator, isCuda: true);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException or AcceleratorException or CudaException)
        {
            reason = $"CUDA unavailable: {ex.GetType().Name}: {ex.Message}";
            context?.Dispose();
            return null;
        }
    }

    /// <summary>
    /// The scanner on ILGPU's CPU accelerator: the same kernels, run by threads on the processor.
    /// Far slower than <see cref="CpuExactScanner"/>; it lets tests check the kernels without a GPU.
    /// </summary>
    public static GpuExactScanner CreateCpuAccelerator()
    {
        // Groups of up to 128 threads (32 warps of 4) as on the GPU, one group at a time.
        var device = new CPUDevice(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 32, numMultiprocessors: 1);
        var context = Context.Create(builder => builder.CPU(device).Optimize(OptimizationLevel.O1));
        var accelerator = device.CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel);
        return new GpuExactScanner(context, accelerator, isCuda: false);
    }

    /// <inheritdoc />
    public IScanCorpus CreateCorpus() => new GpuCorpus(this);

    /// <summary>Releases the device.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            Accelerator.Dispose();
            _context.Dispose();
        }
    }
}
