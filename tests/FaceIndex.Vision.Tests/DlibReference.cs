using System.Text.Json;

namespace FaceIndex.Vision.Tests;

/// <summary>
/// An independent forward pass of face-api.js's FaceRecognitionNet, written from the package's
/// src/faceRecognitionNet/ with plain loops: NHWC tensors, the TFJS weights dequantized here from the
/// manifest (value = q × scale + min), conv + bias + scale layer unfolded, TF's "same"/"valid" padding,
/// and the residual-down blocks' zero padding. It shares no code with the converter.
/// </summary>
internal sealed class DlibReference
{
    private readonly Dictionary<string, float[]> _w = new(StringComparer.Ordinal);

    public DlibReference(string manifestPath, string shardPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(manifestPath));
        var shard = File.ReadAllBytes(shardPath);
        int offset = 0;
        foreach (var w in doc.RootElement[0].GetProperty("weights").EnumerateArray())
        {
            int n = 1;
            foreach (var d in w.GetProperty("shape").EnumerateArray())
            {
                n *= d.GetInt32();
            }

            var v = new float[n];
            if (w.TryGetProperty("quantization", out var q))
            {
                double scale = q.GetProperty("scale").GetDouble(), min = q.GetProperty("min").GetDouble();
                for (int i = 0; i < n; i++)
                {
                    v[i] = (float)((shard[offset + i] * scale) + min);
                }

                offset += n;
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    v[i] = BitConverter.ToSingle(shard, offset + (4 * i));
                }

                offset += 4 * n;
            }

            _w[w.GetProperty("name").GetString()!] = v;
        }
    }

    /// <summary>The 128-D output for one chip given as RGB planes [3, 150, 150] (already normalised).</summary>
    public float[] Forward(float[] planes)
    {
        const int S = 150;
        var x = new T(S, S, 3);
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < S; y++)
            {
                for (int xx = 0; xx < S; xx++)
                {
                    x[y, xx, c] = planes[(c * S * S) + (y * S) + xx];
                }
            }
        }

        var o = ConvLayer(x, "conv32_down", 7, 2, same: false, relu: true);
        o = MaxPool3(o);
        foreach (var name in new[] { "conv32_1", "conv32_2", "conv32_3" })
        {
            o = Residual(o, name);
        }

        o = ResidualDown(o, "conv64_down");
        foreach (var name in new[] { "conv64_1", "conv64_2", "conv64_3" })
        {
            o = Residual(o, name);
        }

        o = ResidualDown(o, "conv128_down");
        o = Residual(o, "conv128_1");
        o = Residual(o, "conv128_2");
        o = ResidualDown(o, "conv256_down");
        o = Residual(o, "conv256_1");
        o = Residual(o, "conv256_2");
        o = ResidualDown(o, "conv256_down_out");

        var mean = new double[o.C];
        for (int y = 0; y < o.H; y++)
        {
            for (int xx = 0; xx < o.W; xx++)
            {
                for (int c = 0; c < o.C; c++)
                {
                    mean[c] += o[y, xx, c];
                }
            }
        }

        var fc = _w["fc"];
        var result = new float[128];
        for (int j = 0; j < 128; j++)
        {
            double sum = 0;
            for (int c = 0; c < o.C; c++)
            {
                sum += mean[c] / (o.H * o.W) * fc[(c * 128) + j];
            }

            result[j] = (float)sum;
        }

        return result;
    }

    private T Residual(T x, string name)
    {
        var o = ConvLayer(x, name + "/conv1", 3, 1, same: true, relu: true);
        o = ConvLayer(o, name + "/conv2", 3, 1, same: true, relu: false);
        for (int i = 0; i < o.Data.Length; i++)
        {
            o.Data[i] = Math.Max(0, o.Data[i] + x.Data[i]);
        }

        return o;
    }

    private T ResidualDown(T x, string name)
    {
        var o = ConvLayer(x, name + "/conv1", 3, 2, same: false, relu: true);
        o = ConvLayer(o, name + "/conv2", 3, 1, same: true, relu: false);

        // avgPool 2×2/2 valid of the input.
        int ph = ((x.H - 2) / 2) + 1, pw = ((x.W - 2) / 2) + 1;
        var pooled = new T(ph, pw, x.C);
        for (int y = 0; y < ph; y++)
        {
            for (int xx = 0; xx < pw; xx++)
            {
                for (int c = 0; c < x.C; c++)
                {
                    pooled[y, xx, c] = (x[2 * y, 2 * xx, c] + x[2 * y, (2 * xx) + 1, c] + x[(2 * y) + 1, 2 * xx, c] + x[(2 * y) + 1, (2 * xx) + 1, c]) / 4f;
                }
            }
        }

        // The conv path is zero-extended (bottom rows, right columns) to the pooled size; the pooled
        // path is zero-extended in channels to the conv path's.
        var result = new T(ph, pw, o.C);
        for (int y = 0; y < ph; y++)
        {
            for (int xx = 0; xx < pw; xx++)
            {
                for (int c = 0; c < o.C; c++)
                {
                    float conv = y < o.H && xx < o.W ? o[y, xx, c] : 0f;
                    float shortcut = c < x.C ? pooled[y, xx, c] : 0f;
                    result[y, xx, c] = Math.Max(0, conv + shortcut);
                }
            }
        }

        return result;
    }

    private T ConvLayer(T x, string prefix, int k, int stride, bool same, bool relu)
    {
        var filters = _w[prefix + "/conv/filters"];
        var bias = _w[prefix + "/conv/bias"];
        var scale = _w[prefix + "/scale/weights"];
        var shift = _w[prefix + "/scale/biases"];
        int cout = bias.Length;
        int pad = same ? (k - 1) / 2 : 0;
        int oh = same ? x.H : ((x.H - k) / stride) + 1;
        int ow = same ? x.W : ((x.W - k) / stride) + 1;
        var o = new T(oh, ow, cout);
        var acc = new double[cout];
        for (int y = 0; y < oh; y++)
        {
            for (int xx = 0; xx < ow; xx++)
            {
                Array.Clear(acc);
                for (int ky = 0; ky < k; ky++)
                {
                    int iy = (y * stride) + ky - pad;
                    if (iy < 0 || iy >= x.H)
                    {
                        continue;
                    }

                    for (int kx = 0; kx < k; kx++)
                    {
                        int ix = (xx * stride) + kx - pad;
                        if (ix < 0 || ix >= x.W)
                        {
                            continue;
                        }

                        for (int ci = 0; ci < x.C; ci++)
                        {
                            double v = x[iy, ix, ci];
                            int f = (((ky * k) + kx) * x.C + ci) * cout;
                            for (int co = 0; co < cout; co++)
                            {
                                acc[co] += v * filters[f + co];
                            }
                        }
                    }
                }

                for (int co = 0; co < cout; co++)
                {
                    double v = ((acc[co] + bias[co]) * scale[co]) + shift[co];
                    o[y, xx, co] = (float)(relu ? Math.Max(0, v) : v);
                }
            }
        }

        return o;
    }

    private static T MaxPool3(T x)
    {
        int oh = ((x.H - 3) / 2) + 1, ow = ((x.W - 3) / 2) + 1;
        var o = new T(oh, ow, x.C);
        for (int y = 0; y < oh; y++)
        {
            for (int xx = 0; xx < ow; xx++)
            {
                for (int c = 0; c < x.C; c++)
                {
                    float m = float.NegativeInfinity;
                    for (int ky = 0; ky < 3; ky++)
                    {
                        for (int kx = 0; kx < 3; kx++)
                        {
                            m = Math.Max(m, x[(2 * y) + ky, (2 * xx) + kx, c]);
                        }
                    }

                    o[y, xx, c] = m;
                }
            }
        }

        return o;
    }

    /// <summary>An HWC tensor.</summary>
    private sealed class T(int h, int w, int c)
    {
        public int H { get; } = h;

        public int W { get; } = w;

        public int C { get; } = c;

        public float[] Data { get; } = new float[h * w * c];

        public float this[int y, int x, int ch]
        {
            get => Data[(((y * W) + x) * C) + ch];
            set => Data[(((y * W) + x) * C) + ch] = value;
        }
    }
}
