using System.Text.RegularExpressions;
using FaceIndex.Gpu.Internal;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FaceIndex.Gpu.Tests;

/// <summary>
/// The kernels compile to PTX for a Hopper GPU on any machine (ILGPU's PTX backend needs no device):
/// the dot product is 32 dp4a instructions, and the query code stays in registers: the only local
/// memory is one 4-byte slot per dp4a result (the inline assembly's output operand), which the
/// driver's compiler keeps in a register.
/// What the CPU accelerator cannot show: the CUDA branch of <see cref="PackedCode.Dp4a"/>.
/// </summary>
public sealed class PtxTests
{
    [Fact]
    public void Scan_kernel_compiles_to_dp4a_with_the_code_in_registers()
    {
        string ptx = Compile(nameof(ScanKernels.Scan));

        Assert.Equal(32, Occurrences(ptx, "dp4a.s32.s32"));
        Assert.Contains(".shared", ptx, StringComparison.Ordinal);
        var depots = Regex.Matches(ptx, @"\.local \.align \d+ \.b8 __local_depot\d+\[(\d+)\];");
        Assert.Equal(32, depots.Count);
        Assert.All(depots, depot => Assert.Equal("4", depot.Groups[1].Value));
    }

    [Fact]
    public void Merge_kernel_compiles()
    {
        string ptx = Compile(nameof(ScanKernels.Merge));

        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
        Assert.Equal(0, Occurrences(ptx, "dp4a"));
    }

    private static string Compile(string kernel)
    {
        using var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(typeof(ScanKernels).GetMethod(kernel)!);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
        return compiled.PTXAssembly;
    }

    private static int Occurrences(string text, string value)
    {
        int count = 0;
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
