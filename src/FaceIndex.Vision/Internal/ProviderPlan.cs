using FaceIndex.Core;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The execution provider the pipeline's models are meant to run on, decided once at start from
/// Vision:Provider and <see cref="GpuProbe"/>, with the reason in words for the start-up log line.
/// </summary>
/// <param name="Provider">Cpu, Cuda or TensorRt (never Auto).</param>
/// <param name="Reason">Why, e.g. "auto: CUDA unavailable: libcudart.so.13 not found".</param>
/// <param name="MayFallBack">Whether a model whose GPU session fails may run on the CPU (Provider=Auto) instead of failing the start.</param>
internal sealed record ProviderPlan(ExecutionProvider Provider, string Reason, bool MayFallBack)
{
    /// <summary>Resolves the requested provider.</summary>
    /// <exception cref="FaceIndexException">ProviderUnavailable: Cuda or TensorRt was asked for and cannot run here.</exception>
    public static ProviderPlan Resolve(ExecutionProvider requested)
    {
        switch (requested)
        {
            case ExecutionProvider.Cpu:
                return new(ExecutionProvider.Cpu, "Vision:Provider=Cpu", false);
            case ExecutionProvider.Cuda:
                var cuda = GpuProbe.CudaUnavailableReason;
                return cuda is null
                    ? new(ExecutionProvider.Cuda, $"Vision:Provider=Cuda; {DescribeDevices()}", false)
                    : throw Unavailable(requested, $"CUDA unavailable: {cuda}");
            case ExecutionProvider.TensorRt:
                var trt = GpuProbe.TensorRtUnavailableReason;
                return trt is null
                    ? new(ExecutionProvider.TensorRt, $"Vision:Provider=TensorRt; {DescribeDevices()}", false)
                    : throw Unavailable(requested, $"TensorRT unavailable: {trt}");
            default:
                var reason = GpuProbe.CudaUnavailableReason;
                return reason is null
                    ? new(ExecutionProvider.Cuda, $"auto: CUDA loads; {DescribeDevices()}", true)
                    : new(ExecutionProvider.Cpu, $"auto: CUDA unavailable: {reason}", true);
        }
    }

    private static string DescribeDevices() => GpuProbe.DeviceCount == 1 ? "1 CUDA device" : $"{GpuProbe.DeviceCount} CUDA devices";

    private static FaceIndexException Unavailable(ExecutionProvider requested, string reason) =>
        new(FaceIndexError.ProviderUnavailable, $"Vision:Provider is {requested} but {reason}. Install the missing library (CUDA 13, cuDNN 9{(requested == ExecutionProvider.TensorRt ? ", TensorRT 10" : "")}) or use Provider=Auto or Cpu.");
}
