import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { StateFilter } from "./StateFilter";

const OPTIONS = [
  { value: "", label: "all" },
  { value: "in_progress", label: "in progress" },
];

describe("StateFilter", () => {
  it("is a search form whose labelled select shows the options and the chosen value", () => {
    render(<StateFilter label="State" value="in_progress" options={OPTIONS} onChange={() => {}} />);
    const select = screen.getByRole("combobox", { name: "State" });
    expect(screen.getByRole("search")).toContainElement(select);
    expect(select).toHaveValue("in_progress");
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["all", "in progress"]);
  });

  it("hands the chosen option's value to onChange", () => {
    const onChange = vi.fn();
    render(<StateFilter label="State" value="" options={OPTIONS} onChange={onChange} />);
    fireEvent.change(screen.getByRole("combobox", { name: "State" }), { target: { value: "in_progress" } });
    expect(onChange).toHaveBeenCalledWith("in_progress");
  });
});
