using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Whether ONNX Runtime's CUDA (and TensorRT) execution providers can run here, and if not, why, in
/// words a person can act on ("libcublasLt.so.13 not found", "no CUDA device"). Asking ONNX Runtime
/// itself is no help: appending the CUDA provider without its libraries fails with "Failed to load
/// shared library" and prints the missing library's name only to the native log. So the probe loads
/// the libraries the provider needs one by one (dlopen, as the provider would), then the provider
/// library itself, then counts the devices through the CUDA runtime. Done once per process.
/// </summary>
internal static class GpuProbe
{
    /// <summary>The CUDA libraries the CUDA provider of ONNX Runtime 1.32 needs (CUDA 13, cuDNN 9), in load order.</summary>
    internal static readonly string[] CudaLibraries = ["libcuda.so.1", "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcudnn.so.9"];

    /// <summary>The further libraries of the TensorRT provider.</summary>
    internal static readonly string[] TensorRtLibraries = ["libnvinfer.so.10", "libnvonnxparser.so.10"];

    private static readonly Lazy<string?> s_cuda = new(ProbeCuda);
    private static readonly Lazy<string?> s_tensorRt = new(ProbeTensorRt);

    /// <summary>Null when the CUDA provider loads and a device is present; otherwise why not.</summary>
    public static string? CudaUnavailableReason => s_cuda.Value;

    /// <summary>Null when the TensorRT provider (over CUDA) loads and a device is present; otherwise why not.</summary>
    public static string? TensorRtUnavailableReason => s_tensorRt.Value;

    /// <summary>CUDA devices seen by the CUDA runtime (0 when it does not load).</summary>
    public static int DeviceCount { get; private set; }

    private static string? ProbeCuda()
    {
        if (!OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            return "this ONNX Runtime build has no CUDA execution provider";
        }

        if (!OperatingSystem.IsLinux())
        {
            return "the CUDA probe supports Linux only";
        }

        return FirstMissing(CudaLibraries)
            ?? LoadProvider("libonnxruntime_providers_cuda.so")
            ?? CountDevices();
    }

    private static string? ProbeTensorRt()
    {
        if (!OrtEnv.Instance().GetAvailableProviders().Contains("TensorrtExecutionProvider"))
        {
            return "this ONNX Runtime build has no TensorRT execution provider";
        }

        return CudaUnavailableReason ?? FirstMissing(TensorRtLibraries) ?? LoadProvider("libonnxruntime_providers_tensorrt.so");
    }

    private static string? FirstMissing(string[] libraries)
    {
        foreach (var library in libraries)
        {
            if (!NativeLibrary.TryLoad(library, out _))
            {
                return $"{library} not found";
            }
        }

        return null;
    }

    /// <summary>Loads the provider library from beside libonnxruntime.so; dlopen's own message when that fails.</summary>
    private static string? LoadProvider(string file)
    {
        string[] folders = [AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native")];
        var path = folders.Select(f => Path.Combine(f, file)).FirstOrDefault(File.Exists);
        if (path is null)
        {
            return $"{file} is not beside the application";
        }

        try
        {
            NativeLibrary.Load(path);
            return null;
        }
        catch (DllNotFoundException ex)
        {
            // .NET's message ends with dlerror's text, e.g. "libcufft.so.12: cannot open shared object file: …".
            var last = ex.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
            int colon = last.IndexOf(": cannot open shared object file", StringComparison.Ordinal);
            return colon > 0 ? $"{last[..colon]} not found" : $"{file} does not load: {last}";
        }
    }

    private static unsafe string? CountDevices()
    {
        var cudart = NativeLibrary.Load("libcudart.so.13");
        if (!NativeLibrary.TryGetExport(cudart, "cudaGetDeviceCount", out var export))
        {
            return "libcudart.so.13 lacks cudaGetDeviceCount";
        }

        int count = 0;
        int status = ((delegate* unmanaged<int*, int>)export)(&count);
        DeviceCount = status == 0 ? count : 0;
        return status switch
        {
            0 when count > 0 => null,
            0 or 100 => "no CUDA device",
            35 => "the NVIDIA driver is older than CUDA 13 needs (cudaErrorInsufficientDriver)",
            _ => $"cudaGetDeviceCount failed with CUDA error {status}",
        };
    }
}
