using FaceIndex.Onnx;
using Google.Protobuf;

namespace FaceIndex.Vision.Conversion;

/// <summary>
/// Converts the dlib face-recognition ResNet as shipped by @vladmandic/face-api (TensorFlow.js weights,
/// architecture in the package's src/faceRecognitionNet/) to an ONNX model with a dynamic batch:
/// input <c>input</c> [N, 3, 150, 150] (RGB planes, already (x − mean RGB) / 255), output
/// <c>embedding</c> [N, 128] (not normalised).
/// </summary>
/// <remarks>
/// The network: conv 7×7/2 (valid) → max-pool 3×3/2 (valid) → 3 residual blocks of 32 channels →
/// a down block to 64 and 3 blocks → down to 128 and 2 blocks → down to 256 and 2 blocks → a last down
/// block of 256 → mean over the 2×2 map → fully connected 256 → 128. Every conv is followed by a bias
/// and a per-channel scale layer (x·w + b); the converter folds both into the conv's weights and bias.
/// A residual block is conv-relu-conv (3×3 "same") + identity, then relu. A down block's conv path is
/// conv 3×3/2 (valid) -relu- conv 3×3 "same"; its shortcut is a 2×2/2 average pool, with as many zero
/// channels appended as the conv path has more; where the conv path's map is one smaller than the pooled
/// map (odd sizes: 8 → 3 vs 4, 4 → 1 vs 2) it gets a zero row at the bottom and a zero column at the right.
/// </remarks>
public static class DlibResNetConverter
{
    /// <summary>Side of the input chip.</summary>
    public const int InputSize = 150;

    /// <summary>Length of the output embedding.</summary>
    public const int Dimensions = 128;

    /// <summary>Name of the model's input.</summary>
    public const string InputName = "input";

    /// <summary>Name of the model's output.</summary>
    public const string OutputName = "embedding";

    /// <summary>The residual stages: (block name, output channels, whether it is a down block).</summary>
    private static readonly (string Name, int Channels, bool Down)[] s_blocks =
    [
        ("conv32_1", 32, false), ("conv32_2", 32, false), ("conv32_3", 32, false),
        ("conv64_down", 64, true), ("conv64_1", 64, false), ("conv64_2", 64, false), ("conv64_3", 64, false),
        ("conv128_down", 128, true), ("conv128_1", 128, false), ("conv128_2", 128, false),
        ("conv256_down", 256, true), ("conv256_1", 256, false), ("conv256_2", 256, false),
        ("conv256_down_out", 256, true),
    ];

    /// <summary>Converts the weights (manifest JSON and shard) to the serialised ONNX model.</summary>
    /// <exception cref="Core.FaceIndexException">ModelMissing: the weights are malformed or not this network's.</exception>
    public static byte[] Convert(ReadOnlySpan<byte> manifestJson, ReadOnlySpan<byte> shard)
    {
        var weights = TfjsWeights.Read(manifestJson, shard);
        return Build(weights).ToByteArray();
    }

    internal static ModelProto Build(TfjsWeights weights)
    {
        var g = new OnnxGraphBuilder("dlib_face_recognition_resnet");
        g.Input(InputName, null, 3, InputSize, InputSize);

        // Stem: 150 → 72 (7×7/2 valid) → 35 (max-pool 3×3/2 valid).
        string x = Conv(g, weights, "conv32_down", InputName, 3, 32, 7, stride: 2, pad: 0, relu: true);
        x = g.Node("MaxPool", [x], ("kernel_shape", [3, 3]), ("strides", [2, 2]));
        int size = ((((InputSize - 7) / 2) + 1 - 3) / 2) + 1;
        int channels = 32;

        foreach (var (name, outChannels, down) in s_blocks)
        {
            if (!down)
            {
                string c1 = Conv(g, weights, $"{name}/conv1", x, channels, outChannels, 3, stride: 1, pad: 1, relu: true);
                string c2 = Conv(g, weights, $"{name}/conv2", c1, outChannels, outChannels, 3, stride: 1, pad: 1, relu: false);
                x = g.Node("Relu", [g.Node("Add", [c2, x])]);
                continue;
            }

            string d1 = Conv(g, weights, $"{name}/conv1", x, channels, outChannels, 3, stride: 2, pad: 0, relu: true);
            string d2 = Conv(g, weights, $"{name}/conv2", d1, outChannels, outChannels, 3, stride: 1, pad: 1, relu: false);
            int convSize = ((size - 3) / 2) + 1, pooledSize = size / 2;
            if (convSize != pooledSize)
            {
                if (pooledSize - convSize != 1)
                {
                    throw new InvalidOperationException($"Block {name}: conv map {convSize} vs pooled {pooledSize}.");
                }

                d2 = g.Node("Pad", [d2, g.Int64Initializer($"{name}/pad_hw", 0, 0, 0, 0, 0, 0, 1, 1)]);
            }

            string pooled = g.Node("AveragePool", [x], ("kernel_shape", [2, 2]), ("strides", [2, 2]));
            if (outChannels != channels)
            {
                pooled = g.Node("Pad", [pooled, g.Int64Initializer($"{name}/pad_c", 0, 0, 0, 0, 0, outChannels - channels, 0, 0)]);
            }

            x = g.Node("Relu", [g.Node("Add", [pooled, d2])]);
            size = pooledSize;
            channels = outChannels;
        }

        // Mean over the spatial map, then the fully connected layer (TF's [256, 128] is MatMul's B as is).
        x = g.Node("Flatten", [g.Node("GlobalAveragePool", [x])], ("axis", [1]));
        string fc = g.Initializer("fc", weights.Get("fc", channels, Dimensions), channels, Dimensions);
        g.Node("MatMul", [x, fc]);
        g.RenameLastOutput(OutputName);
        g.Output(OutputName, null, Dimensions);
        return g.Build("FaceIndex DlibResNetConverter", "dlib face recognition ResNet (128-D), converted from @vladmandic/face-api TensorFlow.js weights");
    }

    /// <summary>
    /// A conv with its bias and scale layer folded in: y = (W∗x + bias)·s + b = (W·s)∗x + (bias·s + b);
    /// TF's filter [kh, kw, in, out] becomes ONNX's [out, in, kh, kw].
    /// </summary>
    private static string Conv(OnnxGraphBuilder g, TfjsWeights weights, string prefix, string input, int inChannels, int outChannels, int kernel, int stride, int pad, bool relu)
    {
        var filters = weights.Get($"{prefix}/conv/filters", kernel, kernel, inChannels, outChannels);
        var bias = weights.Get($"{prefix}/conv/bias", outChannels);
        var scale = weights.Get($"{prefix}/scale/weights", outChannels);
        var shift = weights.Get($"{prefix}/scale/biases", outChannels);

        var w = new float[outChannels * inChannels * kernel * kernel];
        var b = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            b[o] = (bias[o] * scale[o]) + shift[o];
            for (int i = 0; i < inChannels; i++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        float tf = filters[(((((ky * kernel) + kx) * inChannels) + i) * outChannels) + o];
                        w[(((((o * inChannels) + i) * kernel) + ky) * kernel) + kx] = tf * scale[o];
                    }
                }
            }
        }

        string wName = g.Initializer($"{prefix}/w", w, outChannels, inChannels, kernel, kernel);
        string bName = g.Initializer($"{prefix}/b", b, outChannels);
        string y = g.Node("Conv", [input, wName, bName], ("kernel_shape", [kernel, kernel]), ("strides", [stride, stride]), ("pads", [pad, pad, pad, pad]));
        return relu ? g.Node("Relu", [y]) : y;
    }
}
