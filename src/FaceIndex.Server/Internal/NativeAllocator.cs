using System.Runtime.InteropServices;

namespace FaceIndex.Server.Internal;

/// <summary>
/// Tunes glibc's malloc for a long-running server whose native libraries (the image codecs, ONNX
/// Runtime) allocate and free buffers of megabytes from many threads. With glibc's defaults the
/// mmap threshold rises after each large free, so later large buffers come from per-thread arenas
/// (up to 8 per core) that keep their freed pages: the soak benchmark's server grew by ~600 MiB of
/// native memory in four minutes. Fixing the mmap and trim thresholds at 128 KiB and the arena count
/// at the core count keeps it flat. A setting that the environment gives (MALLOC_ARENA_MAX,
/// MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_) is left as it is; on other C libraries nothing is done.
/// </summary>
internal static class NativeAllocator
{
    private const int TrimThreshold = -1;
    private const int MmapThreshold = -3;
    private const int ArenaMax = -8;
    private const int Threshold = 128 * 1024;
    private static int s_tuned;

    /// <summary>Applies the settings once per process; false when this is not glibc on Linux.</summary>
    public static bool Tune()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref s_tuned, 1) == 1)
        {
            return false;
        }

        try
        {
            Set("MALLOC_MMAP_THRESHOLD_", MmapThreshold, Threshold);
            Set("MALLOC_TRIM_THRESHOLD_", TrimThreshold, Threshold);
            Set("MALLOC_ARENA_MAX", ArenaMax, Math.Max(2, Environment.ProcessorCount));
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static void Set(string environmentVariable, int parameter, int value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(environmentVariable)))
        {
            _ = MallOpt(parameter, value);
        }
    }

    // DllImport rather than LibraryImport: the call takes and returns ints only, so it needs no
    // generated marshalling, and this project has no unsafe code.
    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);
}
