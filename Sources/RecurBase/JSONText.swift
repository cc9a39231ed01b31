/// JSON string literals, shared by everything Recur writes as JSON (safetensors headers,
/// metrics logs, checkpoint sidecars, the CLI's summary lines).
public enum JSONText {
    /// `s` as a quoted JSON string: `"` and `\` escaped, `\n` short, other control characters
    /// as `\u00XX`.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
