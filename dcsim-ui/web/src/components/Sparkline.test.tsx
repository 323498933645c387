import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SPARK_HEIGHT, SPARK_WIDTH, Sparkline, sparkPoints } from "./Sparkline";

const percent = (v: number) => `${(v * 100).toFixed(1)}%`;

describe("Sparkline", () => {
  it("is an image named after the series, its span and the latest value, which it also shows", () => {
    render(<Sparkline label="CPU" values={[0.1, 0.5, 0.25]} high={1} format={percent} span="10 min" testId="cpu" />);
    const image = screen.getByRole("img", { name: "CPU over the last 10 min, now 25.0%" });
    expect(image.querySelector("polyline")).toHaveAttribute("points", `0.0,${(SPARK_HEIGHT * 0.9).toFixed(1)} 80.0,18.0 160.0,27.0`);
    expect(screen.getByTestId("cpu")).toHaveTextContent("25.0%");
    expect(screen.getByText("CPU", { exact: false }).tagName).toBe("FIGCAPTION");
  });

  it("says when there is no data yet and draws no line", () => {
    render(<Sparkline label="Memory" values={[]} format={percent} span="10 min" />);
    const image = screen.getByRole("img", { name: "Memory: no data yet" });
    expect(image.querySelector("polyline")).toBeNull();
    expect(screen.getByText("–")).toBeInTheDocument();
  });

  it("scales between low and high, clamps outliers, and draws one value as a flat line", () => {
    expect(sparkPoints([20, 85], 20, 85)).toBe(`0.0,${SPARK_HEIGHT.toFixed(1)} ${SPARK_WIDTH.toFixed(1)},0.0`);
    expect(sparkPoints([-5, 2], 0, 1)).toBe(`0.0,${SPARK_HEIGHT.toFixed(1)} ${SPARK_WIDTH.toFixed(1)},0.0`);
    expect(sparkPoints([0.5], 0, 1)).toBe(`0,18.0 ${SPARK_WIDTH},18.0`);
  });

  it("follows the theme: the line and frame are drawn in the theme's colours", () => {
    render(<Sparkline label="CPU" values={[0.2, 0.3]} high={1} format={percent} span="10 min" />);
    const image = screen.getByRole("img");
    expect(image.querySelector("polyline")?.getAttribute("style")).toContain("var(--accent)");
    expect(image.querySelector("rect")?.getAttribute("style")).toContain("var(--border)");
  });
});
