using System.Runtime.InteropServices;
using System.Runtime.Loader;
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
    /// <summary>The driver's library on Linux, as the driver package installs it.</summary>
    private const string DriverLibrary = "libcuda.so.1";

    private static int s_fallbackInstalled;

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
    public bool IsDevice => IsCuda;

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
        InstallDriverFallback();
        Context? context = null;
        Accelerator? accelerator = null;
        try
        {
            context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2));
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                reason = DriverLoads()
                    ? "CUDA unavailable: the NVIDIA driver reports no device"
                    : $"CUDA unavailable: no NVIDIA driver ({DriverLibrary} not found)";
                context.Dispose();
                return null;
            }

            accelerator = devices[0].CreateAccelerator(context);
            var scanner = new GpuExactScanner(context, accelerator, isCuda: true);
            reason = $"CUDA device {accelerator.Name}";
            return scanner;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever stops the optional device (driver, architecture, kernel compilation) leaves the CPU.
            reason = $"CUDA unavailable: {ex.GetType().Name}: {ex.Message}";
            accelerator?.Dispose();
            context?.Dispose();
            return null;
        }
    }

    /// <summary>
    /// ILGPU asks for the driver as "cuda" (libcuda.so, a name that only the driver's development
    /// link provides); where only the runtime name exists, this loads that instead.
    /// </summary>
    private static void InstallDriverFallback()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref s_fallbackInstalled, 1) != 0)
        {
            return;
        }

        AssemblyLoadContext.Default.ResolvingUnmanagedDll += (_, name) =>
            name is "cuda" or "libcuda" or "libcuda.so" && NativeLibrary.TryLoad(DriverLibrary, out nint handle) ? handle : 0;
    }

    private static bool DriverLoads()
    {
        if (!NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvcuda" : DriverLibrary, out nint handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
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
