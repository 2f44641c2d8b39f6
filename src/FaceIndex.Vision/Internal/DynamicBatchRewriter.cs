using System.Buffers.Binary;
using FaceIndex.Core;
using FaceIndex.Onnx;
using Google.Protobuf;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Rewrites an ONNX model published with a fixed batch of 1 into one with a symbolic batch dimension
/// (<see cref="BatchDimension"/>), so that one run embeds many faces:
/// <list type="bullet">
/// <item>the first dimension of every graph input and output becomes the symbolic "batch";</item>
/// <item>a Reshape whose target starts with 1 (fr_feature.onnx: [1, −1]) gets 0 there, which ONNX reads
/// as "copy the input's dimension": [0, −1] keeps the batch and flattens the rest, as [−1, 512] would,
/// without knowing the feature size;</item>
/// <item>Flatten must flatten from axis ≥ 1 (fr_landmark.onnx: axis 1), which keeps the batch already;</item>
/// <item>the intermediate shape annotations (graph.value_info, optional) are dropped: they name batch 1
/// and ONNX Runtime infers them again.</item>
/// </list>
/// Everything else, including fields that FaceIndex's onnx.proto does not list, is written back as
/// read: Google.Protobuf keeps unknown fields byte for byte.
/// </summary>
internal static class DynamicBatchRewriter
{
    /// <summary>Name of the symbolic batch dimension.</summary>
    public const string BatchDimension = "batch";

    /// <summary>Rewrites the serialized model; the result is deterministic for a given input.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: the model is not one this rewrite understands.</exception>
    public static byte[] Rewrite(byte[] model)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw Unsupported($"it is not an ONNX model ({ex.Message})");
        }

        var graph = proto.Graph ?? throw Unsupported("it has no graph");
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var input in graph.Input)
        {
            if (!initializers.ContainsKey(input.Name))
            {
                MakeBatchSymbolic(input);
            }
        }

        foreach (var output in graph.Output)
        {
            MakeBatchSymbolic(output);
        }

        graph.ValueInfo.Clear();
        var constants = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.OpType == "Constant" && node.Output.Count == 1 && node.Attribute.FirstOrDefault(a => a.Name == "value") is { T: { } value })
            {
                constants[node.Output[0]] = value;
            }
        }

        foreach (var node in graph.Node)
        {
            switch (node.OpType)
            {
                case "Reshape":
                    RewriteReshape(node, initializers, constants);
                    break;
                case "Flatten":
                    var axis = node.Attribute.FirstOrDefault(a => a.Name == "axis");
                    if (axis is not null && axis.I == 0)
                    {
                        throw Unsupported($"Flatten node '{node.Name}' flattens from axis 0, which mixes the batch into the features");
                    }

                    break;
            }
        }

        return proto.ToByteArray();
    }

    private static void MakeBatchSymbolic(ValueInfoProto value)
    {
        var shape = value.Type?.TensorType?.Shape;
        if (shape is null || shape.Dim.Count == 0)
        {
            throw Unsupported($"'{value.Name}' has no tensor shape");
        }

        var first = shape.Dim[0];
        if (first.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && first.DimValue != 1)
        {
            throw Unsupported($"'{value.Name}' has batch {first.DimValue}, not 1");
        }

        first.DimParam = BatchDimension;
    }

    private static void RewriteReshape(NodeProto node, Dictionary<string, TensorProto> initializers, Dictionary<string, TensorProto> constants)
    {
        if (node.Input.Count < 2)
        {
            throw Unsupported($"Reshape node '{node.Name}' has no shape input");
        }

        if (node.Attribute.FirstOrDefault(a => a.Name == "allowzero") is { I: not 0 })
        {
            throw Unsupported($"Reshape node '{node.Name}' has allowzero set, so 0 cannot stand for the batch");
        }

        if (!initializers.TryGetValue(node.Input[1], out var target) && !constants.TryGetValue(node.Input[1], out target))
        {
            // A shape computed at run time (Shape → Gather → Concat) follows the batch by itself.
            return;
        }

        if (target.DataType != (int)TensorProto.Types.DataType.Int64)
        {
            throw Unsupported($"Reshape node '{node.Name}' has a shape of data type {target.DataType}, not int64");
        }

        if (target.Int64Data.Count > 0)
        {
            if (target.Int64Data[0] == 1)
            {
                target.Int64Data[0] = 0;
            }
        }
        else if (target.RawData.Length >= sizeof(long))
        {
            if (BinaryPrimitives.ReadInt64LittleEndian(target.RawData.Span) == 1)
            {
                var raw = target.RawData.ToByteArray();
                BinaryPrimitives.WriteInt64LittleEndian(raw, 0);
                target.RawData = ByteString.CopyFrom(raw);
            }
        }
        else
        {
            throw Unsupported($"Reshape node '{node.Name}' has an empty shape");
        }
    }

    private static FaceIndexException Unsupported(string why) =>
        new(FaceIndexError.ModelMissing, $"The model cannot be rewritten to a dynamic batch: {why}.");
}
