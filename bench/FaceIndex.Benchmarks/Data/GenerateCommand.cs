using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FaceIndex.Testing;

namespace FaceIndex.Benchmarks.Data;

/// <summary>
/// <c>generate N DIR</c>: writes base_N.f32, query_N.f32 and query_N.ids exactly as
/// shared/bench/GENERATOR.md specifies and prints their SHA-256, so that the port can be
/// checked against the sums published there.
/// </summary>
internal static class GenerateCommand
{
    public static int Run(string[] args)
    {
        if (args.Length != 2 || !long.TryParse(args[0], out long n))
        {
            Console.Error.WriteLine("usage: generate N DIR   (N a multiple of 100000)");
            return 2;
        }

        Directory.CreateDirectory(args[1]);
        var basePath = Path.Combine(args[1], $"base_{n}.f32");
        using (var file = File.Create(basePath))
        {
            for (long start = 0; start < n; start += SyntheticFaces.BlockSize)
            {
                var block = SyntheticFaces.BaseRows(start, SyntheticFaces.BlockSize);
                file.Write(MemoryMarshal.AsBytes(block.AsSpan()));
            }
        }

        var queryPath = Path.Combine(args[1], $"query_{n}.f32");
        File.WriteAllBytes(queryPath, MemoryMarshal.AsBytes(SyntheticFaces.Queries(n).AsSpan()).ToArray());
        var ids = new int[SyntheticFaces.QueryCount];
        for (int q = 0; q < ids.Length; q++)
        {
            ids[q] = SyntheticFaces.IdentityOfQuery(q, n);
        }

        var idsPath = Path.Combine(args[1], $"query_{n}.ids");
        File.WriteAllBytes(idsPath, MemoryMarshal.AsBytes(ids.AsSpan()).ToArray());
        foreach (var path in new[] { basePath, queryPath, idsPath })
        {
            using var stream = File.OpenRead(path);
            Console.WriteLine($"{Convert.ToHexStringLower(SHA256.HashData(stream))}  {Path.GetFileName(path)}");
        }

        return 0;
    }
}
