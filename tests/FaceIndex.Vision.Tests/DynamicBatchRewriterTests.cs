using FaceIndex.Onnx;
using FaceIndex.Testing;
using FaceIndex.Vision.Internal;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Tests;

/// <summary>The dynamic-batch rewrite of the landmark and embedding models, read and written by our own protobuf code.</summary>
public sealed class DynamicBatchRewriterTests
{
    [Theory]
    [InlineData("fr_landmark.onnx")]
    [InlineData("fr_feature.onnx")]
    public void A_model_read_and_written_again_holds_the_same_fields(string file)
    {
        // Not byte for byte: ONNX's proto2 repeated scalars (dims, ints) are written unpacked, proto3 packs them.
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Models, file));
        var model = ModelProto.Parser.ParseFrom(bytes);
        var again = model.ToByteArray();
        Assert.Equal(model, ModelProto.Parser.ParseFrom(again));
        Assert.InRange(again.Length, bytes.Length * 0.99, bytes.Length * 1.01);
    }

    [Fact]
    public void Fields_unknown_to_our_schema_survive_the_rewrite()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Models, "fr_feature.onnx"));

        // ModelProto field 1000 (length-delimited) and graph field 999 (varint): neither is in protos/onnx/onnx.proto.
        var model = ModelProto.Parser.ParseFrom(bytes);
        byte[] extraModelField = [0xC2, 0x3E, 0x03, (byte)'a', (byte)'b', (byte)'c'];
        var graphBytes = model.Graph.ToByteArray().Concat(new byte[] { 0xB8, 0x3E, 0x2A }).ToArray();
        model.Graph = GraphProto.Parser.ParseFrom(graphBytes);
        var withUnknown = model.ToByteArray().Concat(extraModelField).ToArray();

        var rewritten = DynamicBatchRewriter.Rewrite(withUnknown);

        Assert.Equal(extraModelField, rewritten[^extraModelField.Length..]);
        var graph = ModelProto.Parser.ParseFrom(rewritten).Graph.ToByteArray();
        Assert.Equal(new byte[] { 0xB8, 0x3E, 0x2A }, graph[^3..]);
    }

    [Theory]
    [InlineData("fr_landmark.onnx", 1, 136)]
    [InlineData("fr_feature.onnx", 3, 512)]
    public void The_rewritten_model_takes_any_batch(string file, int channels, int outputs)
    {
        var original = File.ReadAllBytes(Path.Combine(TestPaths.Models, file));
        var rewritten = DynamicBatchRewriter.Rewrite(original);
        var proto = ModelProto.Parser.ParseFrom(rewritten);
        Assert.Equal(DynamicBatchRewriter.BatchDimension, proto.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(DynamicBatchRewriter.BatchDimension, proto.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(rewritten, DynamicBatchRewriter.Rewrite(rewritten));

        using var session = new InferenceSession(rewritten);
        Assert.Equal(-1, session.InputMetadata.Values.Single().Dimensions[0]);
        int side = file == "fr_feature.onnx" ? 112 : 64;
        var input = new float[5 * channels * side * side];
        var random = new Random(7);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = random.NextSingle() - 0.5f;
        }

        using var value = OrtValue.CreateTensorValueFromMemory(input, [5, channels, side, side]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [session.InputNames[0]], [value], session.OutputNames);
        Assert.Equal(new long[] { 5, outputs }, results[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void Bytes_that_are_not_a_model_are_refused_with_ModelMissing()
    {
        var error = Assert.Throws<FaceIndex.Core.FaceIndexException>(() => DynamicBatchRewriter.Rewrite([0xFF, 0xFF, 0xFF]));
        Assert.Equal(FaceIndex.Core.FaceIndexError.ModelMissing, error.Error);
        Assert.Contains("dynamic batch", error.Message, StringComparison.Ordinal);
    }
}
