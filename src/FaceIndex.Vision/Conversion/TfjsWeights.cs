using System.Buffers.Binary;
using System.Text.Json;
using FaceIndex.Core;

namespace FaceIndex.Vision.Conversion;

/// <summary>
/// The tensors of a TensorFlow.js weights file: a JSON manifest (groups of named tensors with shape,
/// dtype and optional quantization) and the binary shard that holds their values back to back, in
/// manifest order. A quantized tensor stores one uint8 per value; its float value is
/// <c>q × scale + min</c> with one scale and min per tensor. Unquantized float32 tensors are stored
/// little-endian. Every tensor is returned dequantized to float32, in the manifest's layout
/// (TF's row-major order: a conv filter is [height, width, in, out]).
/// </summary>
internal sealed class TfjsWeights
{
    private readonly Dictionary<string, Tensor> _tensors;

    private TfjsWeights(Dictionary<string, Tensor> tensors) => _tensors = tensors;

    /// <summary>Number of tensors.</summary>
    public int Count => _tensors.Count;

    /// <summary>Names of the tensors.</summary>
    public IEnumerable<string> Names => _tensors.Keys;

    /// <summary>A tensor by name; the shape must be the one the caller expects.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: the tensor is absent or has another shape.</exception>
    public float[] Get(string name, params int[] shape)
    {
        if (!_tensors.TryGetValue(name, out var tensor))
        {
            throw Invalid($"it has no tensor named '{name}'");
        }

        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
        {
            throw Invalid($"tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}]");
        }

        return tensor.Values;
    }

    /// <summary>Parses the manifest and its shard (the manifest's single group's single path).</summary>
    /// <exception cref="FaceIndexException">ModelMissing: malformed manifest, unsupported dtype, or a shard of the wrong length.</exception>
    public static TfjsWeights Read(ReadOnlySpan<byte> manifestJson, ReadOnlySpan<byte> shard)
    {
        List<(string Name, int[] Shape, string? Quantized, double Scale, double Min)> specs;
        try
        {
            specs = ParseManifest(manifestJson);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw Invalid($"its manifest is malformed ({ex.Message})");
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        int offset = 0;
        foreach (var (name, shape, quantized, scale, min) in specs)
        {
            long count = 1;
            foreach (var d in shape)
            {
                if (d < 1)
                {
                    throw Invalid($"tensor '{name}' has a dimension {d}");
                }

                count *= d;
            }

            int width = quantized switch
            {
                null => 4,
                "uint8" => 1,
                _ => throw Invalid($"tensor '{name}' is quantized as {quantized}; only uint8 is supported"),
            };
            if (count > int.MaxValue / 4 || offset + (count * width) > shard.Length)
            {
                throw Invalid($"the shard ({shard.Length} bytes) ends inside tensor '{name}'");
            }

            var values = new float[count];
            var bytes = shard.Slice(offset, (int)count * width);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = width == 1
                    ? (float)((bytes[i] * scale) + min)
                    : BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
            }

            offset += bytes.Length;
            if (!tensors.TryAdd(name, new Tensor(shape, values)))
            {
                throw Invalid($"tensor '{name}' appears twice");
            }
        }

        if (offset != shard.Length)
        {
            throw Invalid($"the shard holds {shard.Length} bytes but the manifest accounts for {offset}");
        }

        return new TfjsWeights(tensors);
    }

    private static List<(string, int[], string?, double, double)> ParseManifest(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var groups = document.RootElement;
        if (groups.ValueKind != JsonValueKind.Array || groups.GetArrayLength() != 1)
        {
            throw new FormatException("expected one weight group");
        }

        var specs = new List<(string, int[], string?, double, double)>();
        foreach (var weight in groups[0].GetProperty("weights").EnumerateArray())
        {
            var name = weight.GetProperty("name").GetString() ?? throw new FormatException("a tensor without a name");
            var dtype = weight.GetProperty("dtype").GetString();
            if (dtype != "float32")
            {
                throw new FormatException($"tensor '{name}' has dtype {dtype}; only float32 is supported");
            }

            var shape = weight.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            if (weight.TryGetProperty("quantization", out var q))
            {
                specs.Add((name, shape, q.GetProperty("dtype").GetString(), q.GetProperty("scale").GetDouble(), q.GetProperty("min").GetDouble()));
            }
            else
            {
                specs.Add((name, shape, null, 0, 0));
            }
        }

        return specs;
    }

    private static FaceIndexException Invalid(string why) =>
        new(FaceIndexError.ModelMissing, $"The TensorFlow.js weights are not usable: {why}.");

    private sealed record Tensor(int[] Shape, float[] Values);
}
