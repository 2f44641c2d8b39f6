using FaceIndex.Onnx;
using Google.Protobuf;

namespace FaceIndex.Vision.Conversion;

/// <summary>
/// Builds an ONNX graph node by node (opset 13): float initializers, nodes with int attributes,
/// one float input and one float output whose leading dimension may be symbolic (the batch).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>The operator set the graphs are written for.</summary>
    public const int Opset = 13;

    private readonly GraphProto _graph;
    private int _next;

    public OnnxGraphBuilder(string name) => _graph = new GraphProto { Name = name };

    /// <summary>Adds a float32 initializer and returns its name.</summary>
    public string Initializer(string name, float[] values, params long[] dims)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw data is little-endian; this converter runs on little-endian machines only.");
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds an int64 initializer (for shape-like inputs such as Pad's pads) and returns its name.</summary>
    public string Int64Initializer(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, string[] inputs, params (string Name, long[] Values)[] attributes)
    {
        string output = $"{opType.ToLowerInvariant()}_{_next++}";
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (name, values) in attributes)
        {
            var attribute = new AttributeProto { Name = name };
            if (values.Length == 1 && name is "axis" or "keepdims")
            {
                attribute.Type = AttributeProto.Types.AttributeType.Int;
                attribute.I = values[0];
            }
            else
            {
                attribute.Type = AttributeProto.Types.AttributeType.Ints;
                attribute.Ints.AddRange(values);
            }

            node.Attribute.Add(attribute);
        }

        _graph.Node.Add(node);
        return output;
    }

    /// <summary>Renames the output of the last node (the graph's output gets a stable name).</summary>
    public string RenameLastOutput(string name)
    {
        var node = _graph.Node[^1];
        node.Output[0] = name;
        return name;
    }

    /// <summary>Declares a float input or output of the given shape; a null dimension is the symbolic batch.</summary>
    public void Input(string name, params long?[] shape) => _graph.Input.Add(Value(name, shape));

    /// <inheritdoc cref="Input"/>
    public void Output(string name, params long?[] shape) => _graph.Output.Add(Value(name, shape));

    /// <summary>The model: IR version 8, opset 13 of the default domain.</summary>
    public ModelProto Build(string producer, string docString)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = producer,
            ProducerVersion = "1",
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private static ValueInfoProto Value(string name, long?[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
        {
            tensorShape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape } },
        };
    }
}
